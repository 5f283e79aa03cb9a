#!/usr/bin/python3
"""RadioMatch correctness benchmark: the engine's outputs scored against a known truth.

    make quality                                    # every case and configuration
    /usr/bin/python3 test/quality/run.py --cases cloud,rotated --runs "GR,GR then LBA"

For each case of test/known_truth.py (tiles cut from the real Landsat 7 scene in test/data,
each distorted by a known gain and offset per band, plus an illumination field, a cloud, rotated
footprints, float reflectance, eight bands or two separate groups), generates the tiles under
--workdir, runs every configuration of CONFIGURATIONS and scores its outputs (see
known_truth's docstring):

    seam    mean |difference| of overlapping outputs, per band over the truth's standard
            deviation, relative to the inputs' (0 = seamless, 1 = unchanged)
    error   RMS deviation from the truth after one common gain and offset per band, relative
            to the inputs' (0 = the truth up to one linear map, 1 = as far as the inputs)

A configuration whose option the engine does not have yet (a TypeError for that keyword) is
reported as n/a, never run with other options than its label says. Prints a table of
"seam / error" per case and configuration, writes --json (default test/quality/results.json:
machine, commit, date, per case and run the scores and seconds) and, after a run of every case
and configuration, the same table into README.md between the quality markers (--no-readme:
not). Not a test: pytest does not collect it (no test_ prefix).
"""
import argparse
import datetime
import importlib.util
import inspect
import json
import logging
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TEST = os.path.dirname(HERE)
ROOT = os.path.dirname(TEST)
for path in (ROOT, TEST):
    if path not in sys.path:
        sys.path.insert(0, path)

import core  # noqa: E402
import known_truth  # noqa: E402

README = os.path.join(ROOT, "README.md")
README_START, README_END = "<!-- quality:start -->", "<!-- quality:end -->"
UNKNOWN_OPTION = re.compile(r"unexpected keyword argument '(\w+)'")

# The engine's warnings (pixels left unchanged, separate groups) go into results.json with
# each run instead of cluttering the table on stderr.
logging.getLogger("radiomatch").setLevel(logging.ERROR)


def global_regression(case, inputs, outputs, **options):
    # Two threads for speed: the worker count never changes a result (docs/DESIGN.md).
    return core.global_regression(inputs, outputs, image_parallel_workers=("thread", 2),
                                  **options).warnings


def local_block_adjustment(case, inputs, outputs, **options):
    return core.local_block_adjustment(inputs, outputs, image_parallel_workers=("thread", 2),
                                       **options).warnings


def exact_global(case, inputs, outputs):
    """The baseline: each tile's true gain and offset inverted (its inputs are the case's)."""
    known_truth.exact_global_outputs(case, os.path.dirname(outputs[0]))
    return []


@dataclass(frozen=True)
class Configuration:
    """One run: ``function(case, inputs, outputs, **options)``, which returns the run's
    warnings; its inputs are the outputs of the configuration named ``inputs_from``, or the
    case's tiles."""
    name: str
    function: object
    options: dict = field(default_factory=dict)
    inputs_from: str = None


# The one place to add a configuration or an option. Later rows may take an earlier row's
# outputs as inputs.
CONFIGURATIONS = (
    Configuration("GR", global_regression),
    Configuration("GR reference", global_regression,
                  {"anchoring": "per_image", "overlap_statistics": "all_pixels"}),
    Configuration("GR then LBA", local_block_adjustment, inputs_from="GR"),
    Configuration("GR then LBA block means", local_block_adjustment,
                  {"local_model": "block_means"}, inputs_from="GR"),
    Configuration("GR then LBA reference", local_block_adjustment,
                  {"block_statistics": "all_blocks", "local_model": "block_means"},
                  inputs_from="GR reference"),
    Configuration("exact global", exact_global),
)
BY_NAME = {configuration.name: configuration for configuration in CONFIGURATIONS}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="RadioMatch correctness benchmark (scores against a known truth).",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--cases", default=",".join(known_truth.CASES),
                        help=f"comma-separated cases (default all: {','.join(known_truth.CASES)})")
    parser.add_argument("--runs", default=",".join(BY_NAME),
                        help="comma-separated configurations; those whose outputs they take "
                             f"as inputs are added (default all: {','.join(BY_NAME)})")
    parser.add_argument("--workdir", default=os.path.join(HERE, "work"),
                        help="data and outputs (default test/quality/work, ignored by git)")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"),
                        help="where to write the results (test/quality/results.json)")
    parser.add_argument("--no-readme", action="store_true",
                        help="do not write the table into README.md")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    args.runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    for kind, chosen, known in (("case", args.cases, known_truth.CASES),
                                ("run", args.runs, BY_NAME)):
        unknown = [name for name in chosen if name not in known]
        if unknown:
            parser.error(f"unknown {kind}(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return args


def with_sources(names):
    """The chosen configurations and those whose outputs they take, in table order."""
    needed = set()
    for name in names:
        while name and name not in needed:
            needed.add(name)
            name = BY_NAME[name].inputs_from
    return [configuration for configuration in CONFIGURATIONS if configuration.name in needed]


def bench_machine():
    """test/bench/run.py's machine description (CPU, memory, versions, commit)."""
    spec = importlib.util.spec_from_file_location(
        "radiomatch_bench_run", os.path.join(TEST, "bench", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.machine()


def run_configuration(configuration, case, inputs, folder):
    """Run one configuration into ``folder``; returns its record (status ok, n/a or error)."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    outputs = [os.path.join(folder, os.path.basename(path)) for path in inputs]
    start = time.perf_counter()
    try:
        warnings = configuration.function(case, inputs, outputs, **configuration.options)
    except TypeError as error:
        match = UNKNOWN_OPTION.search(str(error))
        if not match or match.group(1) not in configuration.options:
            raise
        return {"status": "n/a", "note": f"engine has no option {match.group(1)}"}
    except core.RadioMatchError as error:
        return {"status": "error", "note": str(error)}
    seconds = time.perf_counter() - start
    differences = known_truth.overlap_mean_differences(outputs, case.scored)
    return {"status": "ok", "outputs": outputs, "seconds": round(seconds, 3),
            "seam": known_truth.seam_score(case, outputs),
            "error": known_truth.error_score(case, outputs),
            "truth_rmse": known_truth.truth_rmse(case, outputs).tolist(),
            "max_overlap_mean_difference": float(max(np.abs(d).max()
                                                     for d in differences.values())),
            "warnings": warnings}


def run_case(name, configurations, workdir):
    """Generate one case and run the configurations on it; returns (case record, run records)."""
    folder = os.path.join(workdir, name)
    shutil.rmtree(folder, ignore_errors=True)
    generator = known_truth.CASES[name]
    start = time.perf_counter()
    case = generator(os.path.join(folder, "inputs"))
    case_record = {
        "parameters": {key: parameter.default for key, parameter
                       in inspect.signature(generator).parameters.items()
                       if key != "folder" and parameter.default is not parameter.empty},
        "tiles": len(case.paths), "bands": case.bands, "dtype": case.dtype,
        "nodata": None if np.isnan(case.nodata) else case.nodata,
        "distortion_rmse": known_truth.distortion_rmse(case).tolist(),
        "generation_seconds": round(time.perf_counter() - start, 3)}
    runs = {}
    for configuration in configurations:
        source = runs.get(configuration.inputs_from) if configuration.inputs_from else None
        if configuration.inputs_from and source["status"] != "ok":
            runs[configuration.name] = {"status": "n/a",
                                        "note": f"needs {configuration.inputs_from}"}
        else:
            inputs = source["outputs"] if source else case.paths
            runs[configuration.name] = run_configuration(
                configuration, case, inputs, os.path.join(folder, slug(configuration.name)))
        print(f"quality: {name}, {configuration.name}: {cell(runs[configuration.name])}",
              flush=True)
    for record in runs.values():
        record.pop("outputs", None)
    return case_record, runs


def slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def cell(record):
    if record["status"] == "ok":
        return f"{record['seam']:.4f} / {record['error']:.4f}"
    return f"{record['status']} ({record['note']})"


def markdown_table(results, configurations):
    header = "| Case | " + " | ".join(c.name for c in configurations) + " |"
    lines = [header, "|---" * (len(configurations) + 1) + "|"]
    for case, entry in results.items():
        lines.append(f"| {case} | " + " | ".join(cell(entry["runs"][c.name])
                                                  for c in configurations) + " |")
    return "\n".join(lines)


def update_readme(table, info, date, seconds):
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    if text.count(README_START) != 1 or text.count(README_END) != 1:
        raise SystemExit(f"quality: {README} needs exactly one {README_START} ... {README_END}")
    head, rest = text.split(README_START)
    _, tail = rest.split(README_END)
    block = (f"{README_START}\nCells: seam / error (0 = perfect, 1 = as the inputs). Commit "
             f"{info['commit']}, {date[:10]}, {seconds:.0f} s in all on {info['cores']} cores "
             f"(`test/quality/results.json`).\n\n{table}\n{README_END}")
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(head + block + tail)
    print(f"quality: table written into {README}")


def main(argv=None):
    args = parse_args(argv)
    configurations = with_sources(args.runs)
    added = [c.name for c in configurations if c.name not in args.runs]
    if added:
        print(f"quality: also running {', '.join(added)} (their outputs are inputs of others)")
    info = bench_machine()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    results = {}
    for name in args.cases:
        case_record, runs = run_case(name, configurations, os.path.abspath(args.workdir))
        results[name] = dict(case_record, runs=runs)
    seconds = time.perf_counter() - start
    table = markdown_table(results, configurations)
    print()
    print(table)
    document = {
        "date": date, "machine": info, "seconds": round(seconds, 1),
        "configurations": [{"name": c.name, "function": c.function.__name__, "options": c.options,
                            "inputs_from": c.inputs_from} for c in configurations],
        "cases": results,
        "notes": "seam, error: known_truth.seam_score and error_score (0 = perfect, 1 = as the "
                 "inputs); truth_rmse: per band, RMS deviation from the truth after one common "
                 "gain and offset, in truth units, to compare with the case's distortion_rmse "
                 "(RMS of input - truth); max_overlap_mean_difference: largest |difference of "
                 "two overlapping outputs' means| over pairs and bands, in data units; seconds: "
                 "the configuration's wall time with 2 threads, scoring excluded; warnings: the "
                 "engine's. Pixels under a cloud are left out of every figure.",
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.write("\n")
        print(f"quality: results written to {args.json}")
    complete = args.cases == list(known_truth.CASES) and len(configurations) == len(CONFIGURATIONS)
    if not args.no_readme and complete:
        update_readme(table, info, date, seconds)
    elif not args.no_readme:
        print("quality: README.md not updated (only a run of every case and configuration is)")
    return 1 if any(run["status"] == "error" for entry in results.values()
                    for run in entry["runs"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
