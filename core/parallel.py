"""Threads, progress and cancellation in one place.

Work is cut into independent tasks (one per image tile) and run on a thread pool: numpy and GDAL
release the GIL, and threads are safe inside QGIS where processes are not. The progress callback
is only ever called from the thread that started the run, so the QGIS feedback object is never
touched from a worker thread.

A stage's task function is a top-level ``function(job, task, context)``: ``job`` holds what
every task of the stage needs (the plan, windows, options), ``task`` one tile, and ``context``
(:class:`TaskContext`) what comes from where it runs: dataset handles, the cancellation check,
the outputs it writes. :class:`ThreadRunner` runs them on this machine's threads;
``cluster.DaskRunner`` runs the same functions on a Dask cluster.
"""
import ctypes
import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager

import rasterio

from .errors import CancelledError, RadioMatchError
from .writing import OutputRaster

LOGGER = logging.getLogger("radiomatch")

_POLL_SECONDS = 0.2
_HANDLES_PER_THREAD = 16
_TRIM_SECONDS = 0.1
_TRIM_GROWTH_BYTES = 64 * 1024 * 1024
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# GDAL keeps written tiles in its block cache until it is full or the file is closed; the
# default (5 % of RAM) made that cache the largest part of a run's memory. Scoped to the run
# (on a Dask worker, to each batch of tasks).
WORKING_CACHE_BYTES = 128 * 1024 * 1024


def working_environment():
    """The GDAL settings a run reads and writes under."""
    return rasterio.Env(GDAL_CACHEMAX=WORKING_CACHE_BYTES)


def _find_malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim     # glibc only: the process's own C library
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def _find_mallopt():
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt


_MALLOPT = _find_mallopt()
# glibc's thresholds: (mallopt parameter, environment variable, default)
_TRIM_THRESHOLD = (-1, "MALLOC_TRIM_THRESHOLD_", 128 * 1024)
_MMAP_THRESHOLD = (-3, "MALLOC_MMAP_THRESHOLD_", 128 * 1024)
_FIXED_THRESHOLDS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
                     "MALLOC_MMAP_MAX_")
# where glibc's dynamic thresholds stand once an array of 32 MB or more has been freed
_TILE_HEAP = {_MMAP_THRESHOLD: 32 * 1024 * 1024, _TRIM_THRESHOLD: 64 * 1024 * 1024}
_TILE_HEAP_USERS = [0]
_TILE_HEAP_LOCK = threading.Lock()


def _fixed_threshold(threshold):
    _, variable, default = threshold
    try:
        return int(os.environ.get(variable, default))
    except ValueError:
        return default


@contextmanager
def tile_sized_heap():
    """Within the block, glibc serves tile arrays from its heap as it does in a process whose
    allocation thresholds follow the arrays freed. Setting any threshold in the environment
    fixes them all, and Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers: every tile
    array was then mapped and unmapped, its pages faulted in again (4 x 4096^2 global
    regression on 2 workers: 9.3 s, 5.7 s of it in the kernel; 7.0 s here, the threaded
    run's 6.9 s). The fixed values come back after the last block of the process ends, with
    the freed memory; a process without fixed thresholds is left alone."""
    fixed = _MALLOPT is not None and any(name in os.environ for name in _FIXED_THRESHOLDS)
    if fixed:
        with _TILE_HEAP_LOCK:
            _TILE_HEAP_USERS[0] += 1
            for (parameter, _, _), value in _TILE_HEAP.items():
                _MALLOPT(parameter, value)
    try:
        yield
    finally:
        if fixed:
            with _TILE_HEAP_LOCK:
                _TILE_HEAP_USERS[0] -= 1
                if not _TILE_HEAP_USERS[0]:
                    for threshold in _TILE_HEAP:
                        _MALLOPT(threshold[0], _fixed_threshold(threshold))
                    if _MALLOC_TRIM is not None:
                        _MALLOC_TRIM(0)


def _resident_bytes():
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return None


class FreedMemoryReturn:
    """Gives the memory of freed tile arrays back to the system when the process has grown by
    ``_TRIM_GROWTH_BYTES`` since it last did (checked at most every ``_TRIM_SECONDS``). Once a
    larger array has been freed, glibc serves arrays of up to 32 MB from its heap and keeps
    what is freed there, between GDAL's cached blocks and the small results that stay: global
    regression over 100 images of 1024^2 held 1,050 MB, 190 MB of it in use. Returning it
    every time would cost page faults when the memory is used again (7 % of a run)."""

    def __init__(self):
        self._checked = time.monotonic()
        self._after_trim = _resident_bytes()

    def __call__(self):
        if _MALLOC_TRIM is None or time.monotonic() - self._checked < _TRIM_SECONDS:
            return
        self._checked = time.monotonic()
        resident = _resident_bytes()
        if (resident is not None and self._after_trim is not None
                and resident - self._after_trim < _TRIM_GROWTH_BYTES):
            return
        _MALLOC_TRIM(0)
        self._after_trim = _resident_bytes()


def available_memory():
    """Bytes of memory the system can give without swapping (None where unknown)."""
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * _PAGE_BYTES
    except (AttributeError, OSError, ValueError):
        return None


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


def run_tasks(function, tasks, workers, progress, consume=None):
    """Run ``function(task)`` for every task on ``workers`` threads.

    Results go to ``consume(task, result)`` on the calling thread, in task order, as soon as
    they are ready, so that a stage keeps only what it still needs; without ``consume`` they
    are returned as a list in task order. Each finished task advances the progress by one
    unit. A failure or a cancellation stops the pool: tasks not yet started are dropped and
    running ones finish their current tile.
    """
    tasks = list(tasks)
    results = []
    if consume is None:
        def consume(task, result):
            results.append(result)
    return_freed_memory = FreedMemoryReturn()
    if workers <= 1:
        for task in tasks:
            progress.check_cancelled()
            consume(task, function(task))
            progress.advance()
            progress.report()
            return_freed_memory()
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="radiomatch") as pool:
        futures = [pool.submit(function, task) for task in tasks]
        pending = set(futures)
        consumed = 0
        try:
            while pending:
                finished, pending = wait(pending, timeout=_POLL_SECONDS,
                                         return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    progress.advance()
                while consumed < len(futures) and futures[consumed].done():
                    result = futures[consumed].result()
                    futures[consumed] = None
                    consume(tasks[consumed], result)
                    consumed += 1
                progress.report()
                return_freed_memory()
        except BaseException:
            progress._cancelled.set()
            for future in pending:
                future.cancel()
            raise
    return results


class DatasetCache:
    """Per-thread open rasterio datasets (a GDAL handle must not be shared between threads).

    :meth:`close` closes them all, also once a stage's threads are done (the cache stays
    usable): every handle keeps its own decoding buffers and cached blocks, and a new pool's
    threads would open new ones. A thread keeps at most ``_HANDLES_PER_THREAD`` open, the
    least recently used is closed first."""

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


class TaskContext:
    """What a task gets from where it runs: ``datasets`` (handles of this thread or worker
    process), ``check_cancelled()``, and :meth:`output`, the output a tile is written to."""

    def __init__(self, datasets, check_cancelled, outputs=None):
        self.datasets = datasets
        self.check_cancelled = check_cancelled
        self._outputs = {} if outputs is None else outputs

    def output(self, file):
        """The :class:`OutputRaster` of an ``OutputFile``: the run's own one on this machine,
        opened here on first use on a worker (which writes every tile of it)."""
        output = self._outputs.get(file.temporary_path)
        if output is None:
            output = self._outputs[file.temporary_path] = OutputRaster(file)
        return output

    def close(self):
        """Close the dataset handles and any output left open by a failed task."""
        self.datasets.close()
        for output in self._outputs.values():
            output.close(check=False)


class ThreadRunner:
    """Runs a stage's tasks on ``workers`` threads of this machine (:func:`run_tasks`)."""

    def __init__(self, workers, progress):
        self.workers = workers
        self.progress = progress
        self.datasets = DatasetCache()

    def check_paths(self, images, temporaries):
        """Nothing to check: this machine opened the inputs and created the temporaries."""

    def map(self, function, job, tasks, consume=None, outputs=None):
        """``function(job, task, context)`` for every task, results consumed in task order
        (see :func:`run_tasks`); ``outputs`` ({temporary path: OutputRaster}) are the outputs
        the tasks write. The stage's dataset handles are closed after it, so that handles do
        not pile up over the stages' thread pools."""
        context = TaskContext(self.datasets, self.progress.check_cancelled, outputs)
        try:
            return run_tasks(lambda task: function(job, task, context), tasks, self.workers,
                             self.progress, consume)
        finally:
            self.datasets.close()

    def close(self):
        self.datasets.close()
