"""Threads, progress and cancellation in one place.

Work is cut into independent tasks (one per image tile) and run on a thread pool: numpy and GDAL
release the GIL, and threads are safe inside QGIS where processes are not. The progress callback
is only ever called from the thread that started the run, so the QGIS feedback object is never
touched from a worker thread.
"""
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import rasterio

from .errors import CancelledError, RadioMatchError

LOGGER = logging.getLogger("radiomatch")

_POLL_SECONDS = 0.2
_HANDLES_PER_THREAD = 16


def resolve_workers(value, parameter_name, warnings):
    """Turn the reference's ``("thread"|"process", "cpu"|int)`` or None into a thread count."""
    if value is None:
        return 1
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise RadioMatchError(
            f"{parameter_name} must be None or a pair (\"thread\" or \"process\", \"cpu\" or a "
            f"positive integer), not {value!r}.")
    backend, count = value
    if backend not in ("thread", "process"):
        raise RadioMatchError(
            f"{parameter_name}: the backend must be \"thread\" or \"process\", not {backend!r}.")
    if backend == "process":
        LOGGER.info("%s: \"process\" runs as threads (processes are unsafe inside QGIS).",
                    parameter_name)
    if count == "cpu":
        return os.cpu_count() or 1
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise RadioMatchError(
            f"{parameter_name}: the worker count must be \"cpu\" or a positive integer, "
            f"not {count!r}.")
    return count


class Progress:
    """Counts finished work units across stages and relays them to the user's callback.

    ``callback(fraction, message)`` returns True to ask for cancellation. Worker threads only
    check :meth:`check_cancelled`; the driving thread calls :meth:`report`.
    """

    def __init__(self, callback, stage_weights):
        self._callback = callback
        self._weights = dict(stage_weights)
        self._total_weight = float(sum(self._weights.values())) or 1.0
        self._done_weight = 0.0
        self._stage = None
        self._stage_units = 1
        self._stage_done = 0
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._driver = threading.get_ident()

    def start_stage(self, stage, message, units):
        if self._stage is not None:
            self._done_weight += self._weights[self._stage]
        self._stage = stage
        self._message = message
        self._stage_units = max(1, units)
        self._stage_done = 0
        self.report()

    def advance(self, units=1):
        with self._lock:
            self._stage_done += units

    def fraction(self):
        with self._lock:
            done = min(self._stage_done, self._stage_units) / self._stage_units
        current = self._weights.get(self._stage, 0.0) * done
        return min(1.0, (self._done_weight + current) / self._total_weight)

    def report(self):
        if self._callback is None or threading.get_ident() != self._driver:
            self.check_cancelled()
            return
        if self._callback(self.fraction(), self._message):
            self._cancelled.set()
        self.check_cancelled()

    def finish(self):
        if self._callback is not None:
            self._callback(1.0, "Done")

    def check_cancelled(self):
        if self._cancelled.is_set():
            raise CancelledError("The run was cancelled.")


def run_tasks(function, tasks, workers, progress):
    """Run ``function(task)`` for every task on ``workers`` threads; results in task order.

    Each finished task advances the progress by one unit. A failure or a cancellation stops the
    pool: tasks not yet started are dropped and running ones finish their current tile.
    """
    tasks = list(tasks)
    if workers <= 1:
        results = []
        for task in tasks:
            progress.check_cancelled()
            results.append(function(task))
            progress.advance()
            progress.report()
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="radiomatch") as pool:
        futures = [pool.submit(function, task) for task in tasks]
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=_POLL_SECONDS,
                                         return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    progress.advance()
                progress.report()
        except BaseException:
            progress._cancelled.set()
            for future in pending:
                future.cancel()
            raise
    return [future.result() for future in futures]


class DatasetCache:
    """Per-thread open rasterio datasets (a GDAL handle must not be shared between threads).

    :meth:`close` closes them all (also once a stage's threads are done: the cache stays usable): every handle keeps its
    own decoding buffers and cached blocks, and a new pool's threads would open new ones."""

    def __init__(self):
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, path):
        handles = getattr(self._local, "handles", None)
        if handles is None or self._local.generation != self._generation:
            handles = self._local.handles = OrderedDict()
            self._local.generation = self._generation
        dataset = handles.get(path)
        if dataset is not None:
            handles.move_to_end(path)
            return dataset
        dataset = rasterio.open(path)
        handles[path] = dataset
        with self._lock:
            self._all.append(dataset)
        if len(handles) > _HANDLES_PER_THREAD:
            _, oldest = handles.popitem(last=False)
            oldest.close()
        return dataset

    def close(self):
        with self._lock:
            for dataset in self._all:
                dataset.close()
            self._all.clear()
            self._generation += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
