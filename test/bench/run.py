#!/usr/bin/python3
"""RadioMatch benchmark: wall time and peak memory of each step, measured against a plain GDAL
copy of the same images (the floor).

    make bench                                  # the default run (16 tiles of 4096 x 4096 x 4)
    /usr/bin/python3 test/bench/run.py --size 1024 --count 4 --json /tmp/small.json
    /usr/bin/python3 test/bench/run.py --steps floor,global,global-2t

Generates its own data once per parameter set (tiled 512 x 512, DEFLATE, predictor 2, uint16,
a smooth synthetic scene with noise and a gain and offset per tile and band; tiles on a grid
whose neighbours share --overlap of a side) in --workdir, and reuses it when present. Each step
then runs in its own process (test/bench/bench_steps.py), which reports its wall time (imports
excluded) and its peak resident memory (getrusage ru_maxrss of that process: the Python
interpreter, numpy, rasterio and GDAL's block cache included). Steps:

    floor           rasterio.shutil.copy of every input with the outputs' creation options
    floor-2t        the same with NUM_THREADS=2: GDAL compresses on 2 threads, as the engine's
                    outputs are in a 2-thread run (the fair floor of the -2t steps)
    global          core.global_regression, default settings
    global-2t       the same with image_parallel_workers=("thread", 2)
    local           core.local_block_adjustment, default settings
    local-2t        the same with image_parallel_workers=("thread", 2)
    local-means-2t  the same with local_model="block_means" (spectralmatch's local model)
    local-plain-2t  local-2t with block_statistics="all_blocks" (no robust sample pass)
    global-dask     core.global_regression on a local Dask cluster (dask_scheduler): 2 worker
                    processes of 1 thread each, started before the clock; also reports each
                    worker's peak memory and whether the outputs equal global-2t's, byte for byte
    local-dask      the same for core.local_block_adjustment (against local-2t)
    solver-2000     core.global_model.solve_model on a synthetic grid of 2,000 images
    solver-10000    the same with 10,000 images (only solve_model is timed)
    overlaps-10000  core.footprints.overlapping_pairs on 10,000 grid footprints

Time per stage of the two algorithms comes from their progress-callback messages; the apply
speedup is the "Applying ..." stage of the 1-thread run over that of the 2-thread run.
Prints a table and writes everything (with the machine) as JSON, by default
test/bench/results.json. Not a test: pytest does not collect it (no test_ prefix).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import bench_data  # noqa: E402

STEP_NAMES = ["floor", "floor-2t", "global", "global-2t", "global-dask", "local", "local-2t",
              "local-dask", "local-means-2t", "local-plain-2t", "solver-2000", "solver-10000",
              "overlaps-10000"]
IMAGE_STEPS = {"floor", "floor-2t", "global", "global-2t", "global-dask", "local", "local-2t",
               "local-dask", "local-means-2t", "local-plain-2t"}
# cluster step -> the threaded step on the same cores it is compared with
CLUSTER_STEPS = {"global-dask": "global-2t", "local-dask": "local-2t"}
MARKER = "BENCH-RESULT "
BUSY_PERCENT = 10.0    # other processes' share of the CPU above which a step is flagged


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="RadioMatch benchmark (wall time and peak memory per step).",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--size", type=int, default=4096, help="tile side in pixels (4096)")
    parser.add_argument("--count", type=int, default=16, help="number of tiles (16)")
    parser.add_argument("--bands", type=int, default=4, help="bands per tile (4)")
    parser.add_argument("--overlap", type=float, default=0.3,
                        help="fraction of a tile side shared with each grid neighbour (0.3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (1)")
    parser.add_argument("--workdir", default=os.path.join(HERE, "work"),
                        help="data and outputs (default test/bench/work, ignored by git)")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"),
                        help="where to write the results (test/bench/results.json)")
    parser.add_argument("--steps", default=",".join(STEP_NAMES),
                        help="comma-separated steps to run, in the order given "
                             f"(default: all: {','.join(STEP_NAMES)})")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds after which a step is stopped and recorded as timed out")
    parser.add_argument("--keep-outputs", action="store_true",
                        help="keep each step's output images in <workdir>/out/<step>")
    parser.add_argument("--profile", metavar="DIR",
                        help="run each step under cProfile, save DIR/<step>.prof and print the "
                             "top functions (slower; main thread only)")
    args = parser.parse_args(argv)
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in args.steps if s not in STEP_NAMES]
    if unknown:
        parser.error(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEP_NAMES)}")
    if not 0 <= args.overlap < 1:
        parser.error("--overlap must be in [0, 1)")
    if args.size < 64 or args.count < 1 or args.bands < 1:
        parser.error("--size must be at least 64, --count and --bands at least 1")
    return args


def machine():
    info = {"cpu": None, "cores": os.cpu_count(), "memory_gb": None,
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_gb"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import numpy
    import rasterio
    import scipy
    info.update(numpy=numpy.__version__, scipy=scipy.__version__, rasterio=rasterio.__version__,
                gdal=rasterio.__gdal_version__, python_executable=sys.executable,
                gdal_cachemax=os.environ.get("GDAL_CACHEMAX", "default"))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        info["commit"] = commit + (" (core/ modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    return info


def run_step(step, config, args, scratch):
    """Run one step in its own process; returns its result record."""
    out = os.path.join(args.workdir, "out", step)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    config = dict(config, out=out)
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        config["profile"] = os.path.abspath(os.path.join(args.profile, f"{step}.prof"))
    config_path = os.path.join(scratch, f"{step}.json")
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    command = [sys.executable, os.path.join(HERE, "bench_steps.py"), step, config_path]
    print(f"bench: {step} ...", flush=True)
    busy_before, children_before = machine_busy_seconds(), children_cpu_seconds()
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        record = {"step": step, "error": f"timed out after {args.timeout:.0f} s"}
    else:
        lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            record = {"step": step, "error": f"exit status {proc.returncode}",
                      "stderr_tail": tail}
        else:
            record = json.loads(lines[-1][len(MARKER):])
    wall = time.perf_counter() - start
    record["process_seconds"] = round(wall, 3)
    # CPU that other processes used meanwhile (the machine's busy time minus this step's):
    # a shared machine makes a step slower than it is, so a busy one is flagged in the table.
    own = children_cpu_seconds() - children_before
    busy = machine_busy_seconds() - busy_before
    if busy is not None and wall > 0:
        record["cpu_seconds"] = round(own, 2)
        record["others_cpu_percent"] = round(
            max(0.0, busy - own) / (wall * (os.cpu_count() or 1)) * 100, 1)
    if "error" not in record:
        if step in IMAGE_STEPS:
            record["output_mb"] = round(sum(
                os.path.getsize(os.path.join(out, name)) for name in os.listdir(out)) / 2**20, 1)
            record["output_sha256"] = outputs_digest(out)
        print(f"bench: {step}: {record['seconds']:.2f} s, peak {record['peak_rss_mb']:.0f} MB",
              flush=True)
    else:
        print(f"bench: {step}: FAILED ({record['error']})", file=sys.stderr, flush=True)
        for line in record.get("stderr_tail", []):
            print(f"    {line}", file=sys.stderr)
    if not args.keep_outputs:
        shutil.rmtree(out, ignore_errors=True)
    if args.profile and "error" not in record:
        print_profile(config["profile"])
    return record


def outputs_digest(folder):
    """One SHA-256 over the output files (names and bytes, in name order)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        digest.update(name.encode() + b"\0")
        with open(os.path.join(folder, name), "rb") as f:
            for chunk in iter(lambda: f.read(2**22), b""):
                digest.update(chunk)
    return digest.hexdigest()


def machine_busy_seconds():
    """Seconds of CPU time the whole machine has spent busy (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)       # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0             # already in user/nice
    return (sum(fields) - idle - guest) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def print_profile(path, top=15):
    import pstats
    print(f"bench: top functions by own time ({path})")
    pstats.Stats(path).sort_stats("tottime").print_stats(top)


def stage_seconds(record, prefix):
    """Seconds of the stages whose message starts with ``prefix``."""
    return sum(s["seconds"] for s in record.get("stages", []) if s["stage"].startswith(prefix))


def summarise(records):
    by_step = {r["step"]: r for r in records}
    for floor_step, key in (("floor", "ratio_to_floor"), ("floor-2t", "ratio_to_floor_2t")):
        floor = by_step.get(floor_step)
        floor_seconds = floor["seconds"] if floor and "error" not in floor else None
        for r in records:
            if floor_seconds and r["step"] in IMAGE_STEPS and "error" not in r:
                r[key] = round(r["seconds"] / floor_seconds, 3)
    speedups = {}
    for one, two, name in (("global", "global-2t", "global_regression"),
                           ("local", "local-2t", "local_block_adjustment")):
        a, b = by_step.get(one), by_step.get(two)
        if not a or not b or "error" in a or "error" in b:
            continue
        entry = {"total": round(a["seconds"] / b["seconds"], 3)}
        for label, prefix in (("apply", "Applying"), ("apply_and_finish", ("Applying", "Finishing")),
                              ("statistics", ("Computing", "Measuring"))):
            x, y = stage_seconds(a, prefix), stage_seconds(b, prefix)
            if x > 0 and y > 0:
                entry[label] = round(x / y, 3)
                entry[f"{label}_seconds_1t_2t"] = [round(x, 3), round(y, 3)]
        speedups[name] = entry
    return speedups


def cluster_overheads(records):
    """Each cluster step against its threaded step: time ratio, each worker's peak memory
    against the threaded run's, and whether the outputs are the same bytes."""
    by_step = {r["step"]: r for r in records}
    overheads = {}
    for step, threaded in CLUSTER_STEPS.items():
        a, b = by_step.get(step), by_step.get(threaded)
        if not a or not b or "error" in a or "error" in b:
            continue
        overheads[step] = {
            "against": threaded, "time_ratio": round(a["seconds"] / b["seconds"], 3),
            "worker_peak_rss_mb": [round(v) for v in a["worker_peak_rss_mb"]],
            "threaded_peak_rss_mb": round(b["peak_rss_mb"]),
            "driver_peak_rss_mb": round(a["peak_rss_mb"]),
            "same_output_bytes": a.get("output_sha256") == b.get("output_sha256")}
    return overheads


def format_table(records, info, config_line):
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB; "
             f"Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
             f"rasterio {info['rasterio']}, GDAL {info['gdal']}",
             f"Data: {config_line}", "",
             "| step           | seconds | x floor | x floor-2t | peak MB |  CPU s | notes",
             "|----------------|--------:|--------:|-----------:|--------:|-------:|------"]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['step']:<14} |       - |       - |          - |       - |      - "
                         f"| {r['error']}")
            continue
        ratio = f"{r['ratio_to_floor']:.2f}" if "ratio_to_floor" in r else ""
        ratio_2t = f"{r['ratio_to_floor_2t']:.2f}" if "ratio_to_floor_2t" in r else ""
        notes = []
        if r.get("stages") and r["step"] in IMAGE_STEPS:
            notes.append(", ".join(f"{short_stage(s['stage'])} {s['seconds']:.1f}"
                                   for s in r["stages"] if s["seconds"] >= 0.05))
        if "worker_peak_rss_mb" in r:
            notes.append("workers' peak " + " / ".join(f"{v:.0f}" for v in r["worker_peak_rss_mb"])
                         + " MB")
        if "pairs" in r:
            notes.append(f"{r['pairs']} pairs")
        if r.get("others_cpu_percent", 0) >= BUSY_PERCENT:
            notes.append(f"machine busy: others used {r['others_cpu_percent']:.0f} % of the CPU")
        if "converged" in r:
            notes.append("converged" if r["converged"] else "NOT converged")
        cpu = f"{r['cpu_seconds']:.1f}" if "cpu_seconds" in r else ""
        lines.append(f"| {r['step']:<14} | {r['seconds']:7.2f} | {ratio:>7} | {ratio_2t:>10} | "
                     f"{r['peak_rss_mb']:7.0f} | {cpu:>6} | {'; '.join(notes)}")
    return "\n".join(lines)


def short_stage(message):
    words = {"setup": "setup", "Computing image and overlap statistics": "stats",
             "Solving the global model": "solve", "Applying the corrections": "apply",
             "Applying the local corrections": "apply", "Finishing outputs": "finish",
             "Computing block means": "blocks",
             "Measuring the coefficient of variation": "variation"}
    return words.get(message, message)


def main(argv=None):
    args = parse_args(argv)
    args.workdir = os.path.abspath(args.workdir)
    os.makedirs(args.workdir, exist_ok=True)
    info = machine()
    config = {"bands": args.bands, "seed": args.seed,
              "creation_options": bench_data.CREATION_OPTIONS}
    generation = None
    if any(step in IMAGE_STEPS for step in args.steps):
        paths, generated, seconds = bench_data.ensure_data(
            args.workdir, args.size, args.count, args.bands, args.overlap, seed=args.seed)
        config["inputs"] = paths
        generation = {"generated": generated, "seconds": round(seconds, 1),
                      "input_mb": round(sum(os.path.getsize(p) for p in paths) / 2**20, 1)}
    records = []
    with tempfile.TemporaryDirectory(prefix="radiomatch-bench-") as scratch:
        for step in args.steps:
            records.append(run_step(step, config, args, scratch))
    speedups = summarise(records)
    overheads = cluster_overheads(records)
    config_line = (f"{args.count} tiles of {args.size} x {args.size} x {args.bands} uint16, "
                   f"tiled 512, DEFLATE, {args.overlap:.0%} overlap")
    if generation:
        config_line += f" ({generation['input_mb']:.0f} MB on disk)"
    print()
    print(format_table(records, info, config_line))
    for name, entry in speedups.items():
        parts = [f"total {entry['total']:.2f}x"]
        for label in ("statistics", "apply", "apply_and_finish"):
            if label in entry:
                x, y = entry[f"{label}_seconds_1t_2t"]
                parts.append(f"{label} {entry[label]:.2f}x ({x:.1f} s -> {y:.1f} s)")
        print(f"2 threads vs 1, {name}: " + ", ".join(parts))
    for step, entry in overheads.items():
        print(f"{step} vs {entry['against']}: {entry['time_ratio']:.2f}x the time; peak memory "
              f"per worker {', '.join(f'{v} MB' for v in entry['worker_peak_rss_mb'])} "
              f"(threaded run {entry['threaded_peak_rss_mb']} MB, driver "
              f"{entry['driver_peak_rss_mb']} MB); outputs "
              + ("the same bytes" if entry["same_output_bytes"] else "NOT the same bytes"))
    document = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": info,
        "parameters": {"size": args.size, "count": args.count, "bands": args.bands,
                       "overlap": args.overlap, "seed": args.seed, "dtype": "uint16",
                       "creation_options": bench_data.CREATION_OPTIONS, "steps": args.steps},
        "data": generation,
        "results": records,
        "speedup_2_threads": speedups,
        "cluster_overhead": overheads,
        "notes": "seconds: the step's wall time in its own process, imports excluded (solver and "
                 "overlap steps: the timed call only); peak_rss_mb: ru_maxrss of that process; "
                 "ratio_to_floor (_2t): seconds over the floor's (floor-2t's) seconds; "
                 "global and local run on 1 thread (one core, the reference's default), -2t on 2 "
                 "threads, GDAL's output compression included; cpu_seconds: the step "
                 "process's CPU time; others_cpu_percent: CPU used by other processes during "
                 "the step, in % of all cores (a busy machine slows the step down); "
                 "-dask steps: the engine call only (the local cluster is started before), "
                 "peak_rss_mb is the driver's (with the scheduler), worker_peak_rss_mb each "
                 "worker process's ru_maxrss, cpu_seconds includes the workers'; "
                 "output_sha256: one digest of the step's output files.",
    }
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1)
            f.write("\n")
        print(f"bench: results written to {args.json}")
    return 1 if any("error" in r for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
