"""One benchmark step, run in its own process by run.py so that its peak memory is its own.

    /usr/bin/python3 test/bench/bench_steps.py STEP CONFIG.json

Prints one line ``BENCH-RESULT {json}`` at the end: the step's wall time (imports excluded),
its peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss``, the whole process, imports
included), the resident memory before the step, the time spent in each stage (from the
engine's progress callback messages) and step-specific details.
"""
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
import rasterio.shutil  # noqa: E402

import core  # noqa: E402
from core.footprints import overlapping_pairs  # noqa: E402
from core.global_model import OverlapStats, solve_model  # noqa: E402

MARKER = "BENCH-RESULT "


def current_rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


class StageClock:
    """progress_callback that records when the stage message changes."""

    def __init__(self):
        self.marks = []

    def __call__(self, fraction, message):
        if not self.marks or self.marks[-1][1] != message:
            self.marks.append((time.perf_counter(), message))
        return None

    def stages(self, start, end):
        """[(message, seconds)], with "setup" for the time before the first callback."""
        out = []
        previous_time, previous_message = start, "setup"
        for when, message in self.marks:
            out.append((previous_message, when - previous_time))
            previous_time, previous_message = when, message
        if previous_message != "Done":
            out.append((previous_message, end - previous_time))
        return [{"stage": message, "seconds": round(seconds, 4)} for message, seconds in out]


# ---- image steps ---------------------------------------------------------------------------

def floor(config, threads=None):
    """A plain GDAL copy of every input with the engine's creation options; with ``threads``,
    compressed on that many threads, as the engine's outputs are in a run with that many."""
    options = dict(config["creation_options"])
    if threads:
        options["NUM_THREADS"] = str(threads)
    for src in config["inputs"]:
        dst = os.path.join(config["out"], os.path.basename(src))
        rasterio.shutil.copy(src, dst, driver="GTiff", **options)
    return {}


def _engine(function, config, **kwargs):
    clock = StageClock()
    start = time.perf_counter()
    result = function(config["inputs"], config["out"], progress_callback=clock, **kwargs)
    end = time.perf_counter()
    details = {"stages": clock.stages(start, end), "warnings": result.warnings[:5],
               "warning_count": len(result.warnings)}
    return details


def global_regression(config, threads=None):
    workers = ("thread", threads) if threads else None
    return _engine(core.global_regression, config, image_parallel_workers=workers)


def local_block_adjustment(config, threads=None, **options):
    workers = ("thread", threads) if threads else None
    return _engine(core.local_block_adjustment, config, image_parallel_workers=workers,
                   **options)


def _worker_peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def on_cluster(function, config):
    """``function`` with its defaults on a local Dask cluster of 2 worker processes of 1
    thread each (started before the clock, as a user's cluster would be); adds each worker
    process's peak resident memory, read in the worker after the run."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        start = time.perf_counter()
        details = _engine(function, config, dask_scheduler=client)
        details["timed_seconds"] = time.perf_counter() - start
        details["worker_peak_rss_mb"] = sorted(client.run(_worker_peak_rss_mb).values())
    return details


# ---- synthetic model steps -----------------------------------------------------------------

def grid_footprints(count, size=4096.0, overlap=0.3, jitter=0.05, seed=0):
    """(left, bottom, right, top) boxes of ``count`` images on a near-square grid whose
    neighbours share ``overlap`` of a side, each moved at random by up to ``jitter`` of a side."""
    rng = np.random.default_rng(seed)
    columns = int(np.ceil(np.sqrt(count)))
    step = size * (1.0 - overlap)
    k = np.arange(count)
    left = (k % columns) * step + rng.uniform(-jitter, jitter, count) * size
    top = -(k // columns) * step + rng.uniform(-jitter, jitter, count) * size
    return [(float(x), float(y - size), float(x + size), float(y)) for x, y in zip(left, top)]


def synthetic_model(count, bands, seed=0):
    """A plausible global-regression model on a grid of ``count`` images: true gains and offsets
    per image, a scene mean and spread per overlap, statistics as an image would measure them
    (with a little noise). Pairs come from the same grid the overlap-search step uses."""
    rng = np.random.default_rng([seed, count])
    bounds = grid_footprints(count, seed=seed)
    pairs = overlapping_pairs(bounds)
    gain = rng.uniform(0.8, 1.25, (count, bands))
    offset = rng.uniform(-200.0, 200.0, (count, bands))
    overlaps = []
    for i, j in pairs:
        a, b = bounds[i], bounds[j]
        area = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        mean = rng.uniform(500.0, 3000.0, bands)
        std = rng.uniform(80.0, 600.0, bands)
        noise = lambda: 1.0 + 0.01 * rng.standard_normal(bands)  # noqa: E731
        overlaps.append(OverlapStats(
            first=i, second=j,
            mean_first=(gain[i] * mean + offset[i]) * noise(), std_first=gain[i] * std * noise(),
            mean_second=(gain[j] * mean + offset[j]) * noise(), std_second=gain[j] * std * noise(),
            size=np.full(bands, float(round(area)))))
    whole_mean = gain * rng.uniform(1000.0, 2500.0, (count, bands)) + offset
    whole_std = gain * rng.uniform(200.0, 500.0, (count, bands))
    included = np.ones(count, dtype=bool)
    return included, whole_mean, whole_std, overlaps, gain, offset


def solver(config, count):
    included, whole_mean, whole_std, overlaps, gain, offset = synthetic_model(
        count, config["bands"], config.get("seed", 0))
    built = time.perf_counter()
    solution = solve_model(included, whole_mean, whole_std, overlaps)
    solved = time.perf_counter()
    # The model should undo the distortion up to one common linear map per band: the corrected
    # gains a_k * g_k should all be about equal.
    corrected = solution.scales * gain
    spread = float(np.max(np.std(corrected, axis=0) / np.mean(corrected, axis=0)))
    return {"images": count, "pairs": len(overlaps), "converged": solution.converged,
            "unconstrained": len(solution.unconstrained),
            "corrected_gain_relative_spread": round(spread, 6),
            "stages": [{"stage": "build synthetic model", "seconds": round(built - START, 4)},
                       {"stage": "solve_model", "seconds": round(solved - built, 4)}],
            "timed_seconds": solved - built}


def overlap_search(config, count):
    bounds = grid_footprints(count, seed=config.get("seed", 0))
    start = time.perf_counter()
    pairs = overlapping_pairs(bounds)
    seconds = time.perf_counter() - start
    return {"footprints": count, "pairs": len(pairs), "timed_seconds": seconds}


STEPS = {
    "floor": floor,
    "floor-2t": lambda config: floor(config, threads=2),
    "global": lambda config: global_regression(config),
    "global-2t": lambda config: global_regression(config, threads=2),
    "local": lambda config: local_block_adjustment(config),
    "local-2t": lambda config: local_block_adjustment(config, threads=2),
    "local-means-2t": lambda config: local_block_adjustment(config, threads=2,
                                                            local_model="block_means"),
    "local-plain-2t": lambda config: local_block_adjustment(config, threads=2,
                                                            block_statistics="all_blocks"),
    "global-dask": lambda config: on_cluster(core.global_regression, config),
    "local-dask": lambda config: on_cluster(core.local_block_adjustment, config),
    "solver-2000": lambda config: solver(config, 2000),
    "solver-10000": lambda config: solver(config, 10000),
    "overlaps-10000": lambda config: overlap_search(config, 10000),
}

START = None


def main(argv):
    global START
    step, config_path = argv[1], argv[2]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    baseline = current_rss_mb()
    profiler = None
    if config.get("profile"):
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    START = time.perf_counter()
    details = STEPS[step](config)
    seconds = time.perf_counter() - START
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(config["profile"])
    # Steps that time only a part of their work (solver, overlap search) report that part.
    timed = details.pop("timed_seconds", seconds)
    result = {"step": step, "seconds": timed, "step_seconds": seconds,
              "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline, **details}
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
