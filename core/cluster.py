"""Running a run's tasks on a Dask cluster (``dask_scheduler``).

The machine that calls the engine (the driver) plans, merges the tasks' results in task order,
solves and publishes; the workers read the inputs and write the outputs themselves, so only
task descriptions and statistics travel. The task functions are the ones the threads run
(``function(job, task, context)``); here a Dask task runs a batch of them, the tiles of one
image (of one overlap in global regression's inlier pass), in a worker process, and returns
their results in order. The engine reaches the workers as a zip uploaded by the driver.

``distributed`` is imported here only, and only when a run is given a scheduler.
"""
import concurrent.futures
import hashlib
import itertools
import os
import queue
import secrets
import tempfile
import threading
import time
import warnings
import zipfile
from contextlib import contextmanager

import rasterio
from rasterio.errors import RasterioIOError

from .errors import CancelledError, RadioMatchError
from .parallel import (DatasetCache, FreedMemoryReturn, TaskContext, tile_sized_heap,
                       working_environment)
from .rasters import is_virtual_path

PACKAGE = __name__.rpartition(".")[0]       # "core", or "radiomatch.core" inside QGIS
DEPENDENCIES = ("numpy", "rasterio", "scipy")
CONNECT_SECONDS = 10
_POLL_SECONDS = 0.2
_STOP_SECONDS = 60.0
# Imported first by the worker (archive entries load in name order): it drops the modules of
# another copy of the engine that the worker process imported before (an older upload, or the
# script a local cluster's worker processes re-run on start), so that every task unpickles
# against the uploaded code.
_LOADER = "_radiomatch_loader"
_LOADER_SOURCE = '''"""Loads the RadioMatch engine from this archive, uploaded by a run's driver."""
import importlib
import os
import sys

ARCHIVE = os.path.dirname(os.path.abspath(__file__))
for name in [name for name in sys.modules if name == {top!r} or name.startswith({top!r} + ".")]:
    if not (getattr(sys.modules[name], "__file__", None) or "").startswith(ARCHIVE + os.sep):
        del sys.modules[name]
importlib.import_module({package!r})
'''


def _client(dask_scheduler):
    """(client, whether this run opened it) for a scheduler address or a Client."""
    try:
        import distributed
    except ImportError:
        raise RadioMatchError(
            "dask_scheduler needs Dask's distributed scheduler, which is not installed here: "
            "install python3-distributed (Debian, Ubuntu) or the pip package distributed, or "
            "leave dask_scheduler empty to run on this machine.") from None
    if isinstance(dask_scheduler, distributed.Client):
        return dask_scheduler, False
    if not isinstance(dask_scheduler, str) or not dask_scheduler.strip():
        raise RadioMatchError(
            "dask_scheduler must be a Dask scheduler address such as \"tcp://host:8786\" or a "
            f"distributed.Client, not {dask_scheduler!r}.")
    try:
        with warnings.catch_warnings():
            # tornado's make_current, which distributed 2022.12 calls (not the user's concern)
            warnings.simplefilter("ignore", DeprecationWarning)
            client = distributed.Client(dask_scheduler.strip(), timeout=CONNECT_SECONDS,
                                        set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise RadioMatchError(
            f"The Dask scheduler {dask_scheduler!r} cannot be reached ({error}).") from None
    return client, True


def package_archive(folder):
    """Write the engine as ``radiomatch-<digest>.zip`` into ``folder``: its modules under the
    name this process imports them by (``core/...``, or ``radiomatch/core/...`` with an empty
    ``radiomatch/__init__.py``, so that the QGIS plugin is not imported), and the loader.
    Returns (path, digest)."""
    source = os.path.dirname(os.path.abspath(__file__))
    prefix = PACKAGE.replace(".", "/")
    entries = {f"{_LOADER}.py": _LOADER_SOURCE.format(top=PACKAGE.partition(".")[0],
                                                      package=PACKAGE).encode()}
    if "." in PACKAGE:
        entries[f"{PACKAGE.partition('.')[0]}/__init__.py"] = b""
    for name in sorted(os.listdir(source)):
        if name.endswith(".py"):
            with open(os.path.join(source, name), "rb") as module:
                entries[f"{prefix}/{name}"] = module.read()
    digest = hashlib.sha1()
    for name in sorted(entries):
        digest.update(name.encode() + b"\0" + entries[name] + b"\0")
    digest = digest.hexdigest()[:16]
    path = os.path.join(folder, f"radiomatch-{digest}.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), entries[name])
    return path, digest


class DaskRunner:
    """Runs a stage's tasks on the workers of a Dask cluster: one Dask task per image (per
    overlap in the inlier pass) with that image's tiles, submitted all at once; the results
    are consumed in task order on this machine as they come, as the threads' are."""

    def __init__(self, dask_scheduler, progress, run_id, warn, debug):
        self.client, self._owned = _client(dask_scheduler)
        self.progress = progress
        self.run_id = f"{run_id}-{secrets.token_hex(8)}"
        self._stages = 0
        try:
            self._prepare_workers(warn, debug)
        except BaseException:
            self._close_client()
            raise

    def _prepare_workers(self, warn, debug):
        """Every worker has numpy, rasterio and scipy, and runs this machine's engine."""
        address = self.client.scheduler.address
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            raise RadioMatchError(
                f"The Dask scheduler {address} has no worker; start some with "
                f"\"dask worker {address}\".") from None
        versions = self.client.get_versions(packages=list(DEPENDENCIES))
        here = versions["client"]["packages"]
        different = []
        for worker, info in sorted(versions["workers"].items()):
            packages = (info or {}).get("packages", {})
            missing = [name for name in DEPENDENCIES if not packages.get(name)]
            if missing:
                raise RadioMatchError(
                    f"The Dask worker {worker} cannot import {', '.join(missing)}: RadioMatch's "
                    "workers need numpy, rasterio and scipy (Debian, Ubuntu: apt install "
                    "python3-rasterio python3-scipy; no pip-installed rasterio beside it).")
            different += [f"{worker} has {name} {packages[name]} (here {here.get(name)})"
                          for name in DEPENDENCIES if packages[name] != here.get(name)]
        if different:
            warn("Dask workers run other versions than this machine ("
                 + "; ".join(different[:3]) + (" ..." if len(different) > 3 else "")
                 + "): their outputs may differ slightly from a run on this machine.")
        self._upload_engine()
        workers = self.client.scheduler_info()["workers"]
        debug(f"Dask scheduler {address}: {len(workers)} worker(s), "
              f"{sum(w.get('nthreads', 0) for w in workers.values())} thread(s).")

    def _upload_engine(self):
        from distributed.diagnostics.plugin import UploadFile

        with tempfile.TemporaryDirectory(prefix="radiomatch-") as folder:
            path, digest = package_archive(folder)
            plugin = UploadFile(path)
        try:
            # one plugin name per package name: a new version replaces the old one, and
            # workers that join later (or restart) load it too
            self.client.register_worker_plugin(plugin, name=f"radiomatch-engine-{PACKAGE}")
        except Exception as error:  # noqa: BLE001 (whatever failed on a worker, say what)
            raise RadioMatchError(
                "The RadioMatch engine could not be loaded on the Dask workers "
                f"({type(error).__name__}: {error}).") from None
        for worker, loaded_from in sorted(self.client.run(_engine_file).items()):
            if digest not in loaded_from:
                raise RadioMatchError(
                    f"The Dask worker {worker} runs the RadioMatch engine from "
                    f"{loaded_from!r}, not the version uploaded by this machine; restart the "
                    "workers.")

    def check_paths(self, images, temporaries):
        """Before any pixel is read: every worker opens every input (the same file as this
        machine's) and sees the temporary files that reserve the outputs, in writable
        folders. The error names the worker and the path."""
        inputs = [(image.path, None if is_virtual_path(image.path) else
                   os.path.getsize(image.path), (image.file_count, image.height, image.width))
                  for image in images]
        found = self.client.run(_reachability, inputs, temporaries, on_error="return")
        for worker, problems in sorted(found.items()):
            if isinstance(problems, Exception):
                problems = [f"could not check its paths ({problems})"]
            if problems:
                raise RadioMatchError(
                    f"The Dask worker {worker} {problems[0]}. Inputs and outputs must be paths "
                    "that every worker reaches as this machine does: absolute paths on a "
                    "file system they all share (inputs may also be GDAL virtual paths such "
                    "as /vsis3/..., with the credentials in each worker's environment).")

    def map(self, function, job, tasks, consume=None, outputs=None):
        """``function(job, task, context)`` for every task on the workers, batched by image;
        results consumed in task order as soon as they are ready, on this thread. A failure,
        a cancel or a worker lost for good stops the outstanding tasks on every worker.
        (``outputs`` are this machine's: a worker opens the outputs its tasks write.)"""
        results = []
        if consume is None:
            def consume(task, result):
                results.append(result)
        batches = [list(group) for _, group in itertools.groupby(tasks, key=lambda task: task[0])]
        if not batches:
            return results
        self._stages += 1
        # A task's result, not scattered data: the scheduler can compute it again if every
        # worker holding it dies (scattered data cannot be; a CI run of the kill test saw the
        # scheduler cancel a stage whose only holder of the scattered job was killed).
        shared = self.client.submit(_shared_job, job, pure=False,
                                    key=f"radiomatch-job-{self.run_id}-{self._stages}")
        self.client.replicate([shared])
        finished = queue.Queue()
        futures = []
        for n, batch in enumerate(batches):
            future = self.client.submit(
                run_batch, function, shared, batch, self.run_id,
                key=f"radiomatch-{function.__name__}-{self.run_id}-{self._stages}-{n}")
            future.add_done_callback(finished.put)
            futures.append(future)
        position = {future.key: n for n, future in enumerate(futures)}
        ready, consumed = {}, 0
        return_freed_memory = FreedMemoryReturn()
        try:
            while consumed < len(batches):
                try:
                    future = finished.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    future = None
                while future is not None:
                    n = position[future.key]
                    ready[n] = future.result()
                    futures[n] = future = None
                    self.progress.advance(len(batches[n]))
                    try:
                        future = finished.get_nowait()
                    except queue.Empty:
                        pass
                while consumed in ready:
                    for task, result in zip(batches[consumed], ready.pop(consumed)):
                        consume(task, result)
                    consumed += 1
                self.progress.report()
                return_freed_memory()
        except BaseException as error:
            self._stop([future for future in futures if future is not None])
            raise _translated(error) from None
        finally:
            shared.release()
        return results

    def _stop(self, futures):
        """Cancel the run on every worker (running batches stop at their next tile), cancel
        the futures, and wait until no batch of the run is running any more, so that the
        partial outputs can be removed."""
        try:
            self.client.run(_stop_run, self.run_id, on_error="ignore")
            self.client.cancel(futures)
            deadline = time.monotonic() + _STOP_SECONDS
            while time.monotonic() < deadline and any(
                    self.client.run(_running_batches, self.run_id, on_error="ignore").values()):
                time.sleep(0.1)
        except Exception:  # noqa: BLE001 (a lost scheduler: nothing more to stop)
            pass

    def _close_client(self):
        if self._owned:
            self.client.close()

    def close(self):
        try:
            self.client.run(_forget_run, self.run_id, on_error="ignore")
        except Exception:  # noqa: BLE001 (a lost scheduler has nothing to forget)
            pass
        self._close_client()


def _translated(error):
    """The error a run raises for what stopped it on the cluster."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        return RadioMatchError(
            f"The Dask worker {error.last_worker.address} died while running the task "
            f"{error.task!r} (killed, or out of memory), and the scheduler does not run it "
            f"again (after {error.allowed_failures} such failures, "
            "distributed.scheduler.allowed-failures); the run was stopped and nothing of its "
            "outputs was kept.")
    if isinstance(error, concurrent.futures.CancelledError):
        return RadioMatchError(
            f"The Dask scheduler cancelled the run's tasks ({error}); nothing of its outputs "
            "was kept.")
    return error


# ---- in the worker processes ----------------------------------------------------------------

class _WorkerRun:
    """A run as one worker process knows it: whether it was cancelled, and how many of its
    batches are running here."""

    def __init__(self):
        self.cancelled = False
        self.batches = 0
        self.lock = threading.Lock()

    def check_cancelled(self):
        if self.cancelled:
            raise CancelledError("The run was cancelled.")

    @contextmanager
    def running(self):
        with self.lock:
            self.batches += 1
        try:
            yield
        finally:
            with self.lock:
                self.batches -= 1


_RUNS = {}
_RUNS_LOCK = threading.Lock()


def _worker_run(run_id):
    with _RUNS_LOCK:
        return _RUNS.setdefault(run_id, _WorkerRun())


def _shared_job(job):
    """What a stage's tasks share, held by the workers as a task's result."""
    return job


def run_batch(function, job, tasks, run_id):
    """Run a batch of a stage's tasks in this worker process, with dataset handles of its
    own (closed at the end, with any output a failed task left open); returns the results in
    task order."""
    state = _worker_run(run_id)
    with state.running():
        state.check_cancelled()
        context = TaskContext(DatasetCache(), state.check_cancelled)
        return_freed_memory = FreedMemoryReturn()
        try:
            with working_environment(), tile_sized_heap():
                results = []
                for task in tasks:
                    results.append(function(job, task, context))
                    return_freed_memory()
                return results
        finally:
            context.close()


def _stop_run(run_id):
    _worker_run(run_id).cancelled = True


def _running_batches(run_id):
    return _worker_run(run_id).batches


def _forget_run(run_id):
    """A finished run leaves nothing behind; a cancelled one stays known as cancelled, so that
    a batch of it that starts late stops at once."""
    with _RUNS_LOCK:
        state = _RUNS.get(run_id)
        if state is not None and not state.cancelled and not state.batches:
            del _RUNS[run_id]


def _engine_file():
    return os.path.abspath(__file__)


def _reachability(inputs, temporaries):
    """What this worker cannot reach: inputs (path, file size on the driver or None for a GDAL
    virtual path, (bands, rows, columns)) it cannot open or sees with another size or shape,
    output temporaries it does not see or cannot write beside."""
    problems = []
    where = f" (relative to its working directory {os.getcwd()!r})"
    for path, size, shape in inputs:
        relative = "" if os.path.isabs(path) or is_virtual_path(path) else where
        try:
            if size is not None and os.path.getsize(path) != size:
                problems.append(f"sees another file at the input {path!r}{relative} "
                                f"({os.path.getsize(path)} bytes, not {size})")
                continue
            with rasterio.open(path) as dataset:
                found = (dataset.count, dataset.height, dataset.width)
            if found != shape:
                problems.append("sees another raster at the input {!r}{} ({} bands of {} x {} "
                                "pixels, not {} of {} x {})".format(path, relative, *found, *shape))
        except (OSError, RasterioIOError) as error:
            problems.append(f"cannot read the input {path!r}{relative} ({error})")
    for temporary in temporaries:
        folder = os.path.dirname(temporary)
        if not os.path.exists(temporary):
            problems.append(f"does not see the output folder {folder!r} as this machine does "
                            f"(the file {os.path.basename(temporary)!r} it created there is "
                            "missing)")
        elif not os.access(folder, os.W_OK | os.X_OK) or not os.access(temporary, os.W_OK):
            problems.append(f"cannot write in the output folder {folder!r}")
    return problems
