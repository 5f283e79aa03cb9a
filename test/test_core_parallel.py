"""The task runner (issue 6): results handed over in task order on the calling thread, as soon
as they are ready, whatever order the threads finish them in."""
import threading
import time

import pytest

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
