"""Shared machinery of the hostile-input, fault and cancellation battery (test_hostile_*.py).

Every case runs through both entry points, ``processing.run`` (in the test process, pytest-qgis)
and ``qgis_process.bin`` (a subprocess, the ``qgis_process`` fixture of conftest.py), behind one
interface: ``runner.run(alg_id, parameters) -> Outcome``. :func:`check` then asserts what the
issue asks of every case:

* the run fails with a message naming the file or parameter and the problem (or succeeds with
  the expected warning and a defined result);
* no Python traceback in the qgis_process output;
* every input byte-identical, and nothing new next to the inputs (``InputGuard``: no
  ``.aux.xml``);
* no partial output: the outputs of a successful run are complete rasters, a failed run leaves
  none, and no ``.partial`` / ``.cog`` temporary file survives.
"""
import json
import os
from dataclasses import dataclass, field

import numpy as np
import rasterio

GR = "radiomatch:globalregression"
LBA = "radiomatch:localblockadjustment"
ALGORITHMS = (GR, LBA)
RUNNERS = ("processing.run", "qgis_process")


@dataclass
class Outcome:
    """What one run did. ``text``: the error message of a failed run, or everything the run
    logged (qgis_process: stdout and stderr; processing.run: the feedback's messages)."""
    ok: bool
    text: str
    results: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    runner: str = ""
    returncode: int = 0


# ---------------------------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------------------------
class ProcessingRunner:
    """processing.run in this process, one fresh context and feedback per run."""

    name = "processing.run"

    def __init__(self, contexts):
        self._contexts = contexts

    def run(self, alg_id, parameters, feedback=None):
        import processing
        from qgis.core import QgsProcessingException

        run = self._contexts()
        if feedback is not None:
            run.context.setFeedback(feedback)
            recorded = feedback
        else:
            recorded = run.feedback
        try:
            results = processing.run(alg_id, parameters, context=run.context, feedback=recorded)
        except QgsProcessingException as err:
            errors = list(getattr(recorded, "errors", []))
            return Outcome(False, "\n".join([str(err)] + errors), {},
                           list(getattr(recorded, "warnings", [])), self.name, 1)
        logged = (list(getattr(recorded, "infos", [])) + list(getattr(recorded, "warnings", [])))
        return Outcome(True, "\n".join(logged), results,
                       list(getattr(recorded, "warnings", [])), self.name, 0)


def cli_arguments(alg_id, parameters, json_output=True):
    """qgis_process arguments: lists repeat the parameter, booleans are true/false, None is
    left out; map layers are given by their source."""
    from qgis.core import QgsMapLayer

    args = (["--json"] if json_output else []) + ["run", alg_id, "--"]
    for name, value in parameters.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, QgsMapLayer):
                item = item.source()
            args.append("{}={}".format(name, item))
    return args


def parse_cli(proc, name="qgis_process"):
    """An :class:`Outcome` from a finished qgis_process --json run."""
    text = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        return Outcome(False, text, {}, [], name, proc.returncode)
    out = proc.stdout
    start = out.find("{")
    assert start >= 0, "no JSON in the qgis_process output:\n" + text
    document = json.loads(out[start:])
    log = document.get("log") if isinstance(document.get("log"), dict) else {}
    warnings = list(log.get("warning", []) or [])
    logged = "\n".join(warnings + list(log.get("info", []) or []))
    return Outcome(True, text + "\n" + logged, document.get("results", {}), warnings, name, 0)


class QgisProcessRunner:
    """qgis_process.bin in a subprocess (isolated profile, the plugin enabled)."""

    name = "qgis_process"

    def __init__(self, call):
        self.call = call

    def run(self, alg_id, parameters, feedback=None):
        assert feedback is None, "qgis_process has no feedback object; see the fault tests"
        return parse_cli(self.call(*cli_arguments(alg_id, parameters)))


def make_runner(request, name):
    """The runner called ``name`` (one of :data:`RUNNERS`), from a pytest request; the
    ``runner`` fixture of conftest.py parametrizes over both."""
    if name == "qgis_process":
        return QgisProcessRunner(request.getfixturevalue("qgis_process"))
    request.getfixturevalue("radiomatch_provider")
    return ProcessingRunner(request.getfixturevalue("processing_contexts"))


# ---------------------------------------------------------------------------------------------
# What every case asserts
# ---------------------------------------------------------------------------------------------
TEMPORARY_MARKERS = (".partial", ".cog")


def files_under(folder):
    """Every file below ``folder`` (relative paths); empty when it does not exist."""
    found = []
    if not os.path.isdir(folder):
        return found
    for root, _dirs, names in os.walk(folder):
        for name in names:
            found.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(found)


def temporary_files(folder):
    return [name for name in files_under(folder)
            if any(marker in os.path.basename(name) for marker in TEMPORARY_MARKERS)]


def assert_complete_raster(path, like=None):
    """The raster opens and every pixel of every band reads back (a truncated or unfinished
    GeoTIFF fails here); ``like``: an input whose size, band count and grid it must have."""
    with rasterio.open(path) as dataset:
        data = dataset.read()
        if like is not None:
            with rasterio.open(like) as source:
                assert (dataset.width, dataset.height, dataset.count) == (
                    source.width, source.height, source.count), path
                assert dataset.transform.almost_equals(source.transform), path
    assert data.size > 0
    return data


def check(outcome, *, guard=None, outputs=None, complete=(), like=None, others=(),
          expect_ok=None, needles=(), any_needles=(), warning_needles=()):
    """The assertions shared by every case.

    ``outputs``: output folder(s) of the run; a failed run may leave nothing in them, a
    successful one exactly the rasters ``complete`` (each read back whole; ``like``: the input
    whose grid each must have) and the other files ``others``. ``needles``: strings that must
    all be in the message, ``any_needles``: at least one of them; ``warning_needles``: strings
    that must each be in one of the warnings of a successful run.
    """
    if expect_ok is not None:
        assert outcome.ok == expect_ok, "{} {}:\n{}".format(
            outcome.runner, "failed" if expect_ok else "succeeded", outcome.text)
    assert "Traceback" not in outcome.text, outcome.text
    for needle in needles:
        assert needle in outcome.text, "{!r} not in the {} message:\n{}".format(
            needle, outcome.runner, outcome.text)
    if any_needles:
        assert any(needle in outcome.text for needle in any_needles), (
            "none of {!r} in the {} message:\n{}".format(any_needles, outcome.runner,
                                                          outcome.text))
    for needle in warning_needles:
        assert any(needle in warning for warning in outcome.warnings), (
            "{!r} in no warning of {}: {}".format(needle, outcome.runner, outcome.warnings))
    if guard is not None:
        guard.verify()
    folders = [outputs] if isinstance(outputs, (str, os.PathLike)) else list(outputs or [])
    for folder in folders:
        folder = os.fspath(folder)
        assert temporary_files(folder) == [], "temporary files left in {}: {}".format(
            folder, temporary_files(folder))
        if not outcome.ok:
            assert files_under(folder) == [], "a failed run left files in {}: {}".format(
                folder, files_under(folder))
    if outcome.ok and outputs is not None:
        complete = [os.fspath(path) for path in complete]
        written = set()
        for folder in folders:
            written |= {os.path.join(os.fspath(folder), name) for name in files_under(folder)}
        assert written == set(complete) | {os.fspath(path) for path in others}, (
            "outputs {} instead of {}".format(sorted(written), sorted(complete) + list(others)))
        likes = list(like) if like is not None else [None] * len(complete)
        for path, source in zip(complete, likes):
            assert_complete_raster(path, source)
    return outcome


def expected_outputs(folder, inputs, suffix):
    """``<folder>/<input name><suffix>.tif`` for each input, in input order."""
    return [os.path.join(os.fspath(folder), os.path.splitext(os.path.basename(path))[0]
                         + suffix + ".tif") for path in inputs]


SUFFIX = {GR: "_Global", LBA: "_Local"}


def read(path):
    with rasterio.open(path) as dataset:
        return dataset.read()


def nodata_of(path):
    with rasterio.open(path) as dataset:
        return dataset.nodata


def same_pixels(first, second):
    a, b = read(first), read(second)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
