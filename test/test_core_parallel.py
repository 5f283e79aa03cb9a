"""The task runner (issue 6): results handed over in task order on the calling thread, as soon
as they are ready, whatever order the threads finish them in."""
import threading
import time

import numpy as np
import pytest

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


def retain_freed_memory(megabytes):
    """Leave about ``megabytes`` of freed memory in glibc's heap: after a 16 MB array is freed,
    glibc serves 4 MB arrays from its heap, and a small survivor after each keeps the heap from
    shrinking when they are freed. Returns the survivors."""
    big = np.ones(16 * 2**20, np.uint8)
    del big
    freed, kept = [], []
    for _ in range(megabytes // 4):
        freed.append(np.ones(4 * 2**20, np.uint8))
        kept.append(np.ones(200 * 1024, np.uint8))
    del freed
    return kept


@pytest.mark.skipif(parallel._MALLOC_TRIM is None or parallel._resident_bytes() is None,
                    reason="glibc's malloc_trim and /proc only")
def test_freed_heap_memory_goes_back_to_the_system_once_the_process_has_grown(monkeypatch):
    monkeypatch.setattr(parallel, "_TRIM_SECONDS", 0.0)
    return_freed_memory = parallel._FreedMemoryReturn()       # the baseline, before the growth
    kept = retain_freed_memory(256)
    retained = parallel._resident_bytes()

    parallel._FreedMemoryReturn()()       # its baseline already holds the growth: nothing to do
    assert parallel._resident_bytes() > retained - 32 * 2**20

    return_freed_memory()
    assert parallel._resident_bytes() < retained - 192 * 2**20
    assert len(kept) == 64
