"""A real Dask cluster for the tests (issue 17): the command-line scheduler and two worker
processes of one thread each, as a user starts them (``dask scheduler``, ``dask worker``).

The workers run in a folder of their own, without this repository on their Python path, so
the engine reaches them only as the driver uploads it, and a relative path means something
else to them than to the tests (the unreachable-path test relies on it). Each worker runs
under a nanny, which restarts it when a test kills it.
"""
import json
import os
import subprocess
import sys
import time

START_SECONDS = 60


class LocalDaskCluster:
    """``address``, ``client`` (a distributed.Client of the tests), ``folder`` and
    :meth:`worker_pids`; :meth:`close` stops everything."""

    def __init__(self, folder, workers=2):
        import distributed

        self.folder = str(folder)
        scheduler_file = os.path.join(self.folder, "scheduler.json")
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        self._processes = [self._start(
            ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", scheduler_file], "scheduler", env)]
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(scheduler_file):
            if time.monotonic() > deadline or self._processes[0].poll() is not None:
                self.close()
                raise RuntimeError("the Dask scheduler did not start: " + self.log("scheduler"))
            time.sleep(0.1)
        time.sleep(0.2)                 # the file is written before it is complete
        with open(scheduler_file, encoding="utf-8") as handle:
            self.address = json.load(handle)["address"]
        for k in range(workers):
            self._processes.append(self._start(
                ["distributed.cli.dask_worker", self.address, "--nthreads", "1",
                 "--nworkers", "1", "--no-dashboard", "--local-directory",
                 os.path.join(self.folder, f"worker{k}")], f"worker{k}", env))
        self.client = distributed.Client(self.address, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=START_SECONDS)
        self.workers = workers

    def _start(self, arguments, name, env):
        cwd = os.path.join(self.folder, name)
        os.makedirs(cwd, exist_ok=True)
        with open(os.path.join(self.folder, f"{name}.log"), "wb") as log:
            return subprocess.Popen([sys.executable, "-m"] + arguments, cwd=cwd, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)

    def log(self, name):
        with open(os.path.join(self.folder, f"{name}.log"), encoding="utf-8",
                  errors="replace") as log:
            return log.read()[-3000:]

    def ready(self):
        """Wait until every worker is up (a killed one is restarted by its nanny)."""
        self.client.wait_for_workers(self.workers, timeout=START_SECONDS)
        deadline = time.monotonic() + START_SECONDS
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def worker_pids(self):
        """{worker address: process id} of the worker processes (not their nannies)."""
        return self.client.run(os.getpid)

    def set_allowed_failures(self, count):
        """How often a task may be lost with a dying worker before the scheduler gives up
        (distributed.scheduler.allowed-failures, 3 by default)."""
        self.client.run_on_scheduler(
            lambda dask_scheduler, count=count: setattr(dask_scheduler, "allowed_failures",
                                                        count))

    def close(self):
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        for process in reversed(self._processes):
            process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
