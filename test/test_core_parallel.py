"""The task runner (issue 6): results handed over in task order on the calling thread, as soon
as they are ready, whatever order the threads finish them in."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import core_helpers
from core import parallel
from core.errors import CancelledError
from core.parallel import Progress, run_tasks


def slow_first(task):
    time.sleep(0.05 * (5 - task))       # the first tasks finish last
    return task * task


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_are_consumed_in_task_order_on_the_calling_thread(workers):
    caller = threading.get_ident()
    consumed = []

    def consume(task, result):
        consumed.append((task, result, threading.get_ident() == caller))

    returned = run_tasks(slow_first, range(6), workers, Progress(None, {}), consume)
    assert consumed == [(task, task * task, True) for task in range(6)]
    assert returned == []


@pytest.mark.parametrize("workers", [1, 2])
def test_results_are_returned_in_task_order_without_a_consumer(workers):
    assert run_tasks(slow_first, range(6), workers, Progress(None, {})) == [
        task * task for task in range(6)]


def test_a_failing_consumer_stops_the_run():
    def consume(task, result):
        if task == 2:
            raise ValueError("bad result")

    progress = Progress(None, {})
    with pytest.raises(ValueError, match="bad result"):
        run_tasks(slow_first, range(6), 2, progress, consume)
    with pytest.raises(CancelledError):
        progress.check_cancelled()


# Run in a fresh interpreter: glibc's heap (its mmap threshold, the free memory the tests before
# left in it) decides where the arrays below land, so the figures need a heap of known history.
FREED_MEMORY_CHECK = """
import numpy as np
from core import parallel

parallel._TRIM_SECONDS = 0.0
return_freed_memory = parallel.FreedMemoryReturn()       # the baseline, before the growth
# after a 16 MB array is freed, glibc serves 4 MB arrays from its heap, and a small survivor
# after each keeps the heap from shrinking when they are freed
big = np.ones(16 * 2**20, np.uint8)
del big
freed, kept = [], []
for _ in range(64):
    freed.append(np.ones(4 * 2**20, np.uint8))
    kept.append(np.ones(200 * 1024, np.uint8))
del freed
retained = parallel._resident_bytes()
parallel.FreedMemoryReturn()()           # its baseline already holds the growth: nothing to do
untouched = parallel._resident_bytes()
return_freed_memory()
print(retained, untouched, parallel._resident_bytes(), len(kept))
"""


@pytest.mark.skipif(parallel._MALLOC_TRIM is None or parallel._resident_bytes() is None,
                    reason="glibc's malloc_trim and /proc only")
def test_freed_heap_memory_goes_back_to_the_system_once_the_process_has_grown():
    done = subprocess.run([sys.executable, "-c", FREED_MEMORY_CHECK], cwd=core_helpers.REPO_ROOT,
                          capture_output=True, text=True, check=True)
    retained, untouched, returned, kept = map(int, done.stdout.split())
    assert untouched > retained - 32 * 2**20
    assert returned < retained - 192 * 2**20
    assert kept == 64


def test_a_thread_keeps_a_bounded_number_of_dataset_handles(tmp_path):
    """Each handle holds decoding buffers and cached blocks: a thread keeps the most recently
    used ones open, up to the limit, closes the oldest, and :meth:`close` closes them all."""
    limit = parallel._HANDLES_PER_THREAD
    paths = [core_helpers.write_raster(str(tmp_path / f"r{k}.tif"), np.zeros((1, 2, 2)),
                                       core_helpers.scene_transform(), dtype="uint8")
             for k in range(limit + 2)]
    cache = parallel.DatasetCache()
    handles = [cache.get(path) for path in paths[:limit]]
    assert cache.get(paths[0]) is handles[0]           # reused, and now the most recent
    extra = [cache.get(path) for path in paths[limit:]]
    assert [handle.closed for handle in handles] == [False, True, True] + [False] * (limit - 3)
    assert cache.get(paths[1]) is not handles[1]       # reopened, closing the next oldest
    assert handles[3].closed and not extra[0].closed
    cache.close()
    assert all(handle.closed for handle in handles + extra)
    assert not cache.get(paths[0]).closed              # usable again after close()
    cache.close()


# A worker of Dask's nanny starts with MALLOC_TRIM_THRESHOLD_=65536, which fixes glibc's
# thresholds: every 4 MB array is then mapped and unmapped, and its pages faulted in again.
TILE_HEAP_CHECK = """
import contextlib
import resource

import numpy as np
from core import parallel

def page_faults(block):
    with block():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(50):
            array = np.ones(4 * 2**20, np.uint8)
            del array
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

print(page_faults(contextlib.nullcontext), page_faults(parallel.tile_sized_heap))
"""


@pytest.mark.skipif(parallel._MALLOPT is None, reason="glibc's mallopt only")
def test_tile_arrays_come_from_the_heap_in_a_process_with_fixed_malloc_thresholds():
    """Issue 17: on a Dask worker the tasks ran 25-75 % slower than on a thread, in the
    kernel; within ``tile_sized_heap`` glibc reuses the freed arrays' memory again."""
    done = subprocess.run([sys.executable, "-c", TILE_HEAP_CHECK], cwd=core_helpers.REPO_ROOT,
                          capture_output=True, text=True, check=True,
                          env=dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536"))
    fixed, tile_heap = map(int, done.stdout.split())
    assert fixed > 10_000               # faults on most 4 KB pages of the 50 arrays' 200 MB
    assert tile_heap < fixed / 10
