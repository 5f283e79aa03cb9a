"""Running the engine: the dependency check, the core import, progress, log and file-size
signal adapters, and its errors as Processing's.

Nothing heavy is imported at module level: the engine (numpy, rasterio, scipy) is imported by
each algorithm's ``engine()`` when it runs, through :func:`engine_function`, so that the plugin
loads without them and says what to install.
"""

import importlib.util
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

from qgis.core import Qgis, QgsMessageLog, QgsProcessingException

from .about import LOG_TAG
from .parameters import tr

CORE_LOGGER = "radiomatch"

# (module, Debian package) pairs the engine needs.
DEPENDENCIES = (
    ("numpy", "python3-numpy"),
    ("rasterio", "python3-rasterio"),
    ("scipy", "python3-scipy"),
)
MAC_PYTHON = "/Applications/QGIS.app/Contents/MacOS/bin/python3"


# ---------------------------------------------------------------------------------------------
# Dependencies (the DataPlotly pattern: the plugin always loads, and says what is missing).
# ---------------------------------------------------------------------------------------------
def _module_available(name):
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_dependencies():
    """Names of the engine's Python modules that cannot be found (nothing is imported)."""
    return [module for module, _package in DEPENDENCIES if not _module_available(module)]


def mac_python(executable):
    """The Python of the QGIS.app that runs ``executable`` (the QGIS binary on macOS)."""
    app = executable.split(".app/", 1)[0] + ".app" if ".app/" in executable else None
    return os.path.join(app, "Contents", "MacOS", "bin", "python3") if app else MAC_PYTHON


def install_advice(missing, platform=None, prefix=None, executable=None):
    """Where to type what, on this machine, to install the ``missing`` modules into the
    Python that QGIS uses: conda, Windows (the OSGeo4W Shell), macOS (QGIS.app's Python) or
    Debian and Ubuntu."""
    platform = sys.platform if platform is None else platform
    prefix = sys.prefix if prefix is None else prefix
    executable = sys.executable if executable is None else executable
    modules = " ".join(missing)
    if os.path.isdir(os.path.join(prefix, "conda-meta")):
        return tr("In the conda environment QGIS runs in: {}").format(
            "conda install -c conda-forge " + modules)
    if platform.startswith("win"):
        return tr("In the OSGeo4W Shell (Start menu, QGIS folder): {}").format(
            "python -m pip install " + modules)
    if platform == "darwin":
        return tr("In a Terminal, with the Python of QGIS.app: {}").format(
            '"{}" -m pip install {}'.format(mac_python(executable), modules))
    packages = " ".join(package for module, package in DEPENDENCIES if module in missing)
    return tr("On Debian or Ubuntu, in a terminal: {} (do not pip-install rasterio into QGIS: "
              "its wheels bring another GDAL)").format("sudo apt install " + packages)


def dependency_message(missing=None, error=None):
    missing = missing if missing is not None else missing_dependencies()
    if missing:
        what = tr("RadioMatch cannot run: the Python module(s) {} cannot be imported.").format(
            ", ".join(missing)
        )
    else:
        what = tr("RadioMatch cannot run: its engine could not be imported.")
        missing = [module for module, _package in DEPENDENCIES]
    if error is not None:
        what += " ({})".format(error)
    return what + " " + tr(
        "RadioMatch needs numpy, rasterio and scipy in the Python that QGIS uses. {}, then "
        "restart QGIS.").format(install_advice(missing))


def log_missing_dependencies():
    """Write the dependency warning to the QGIS message log; return True if something is missing."""
    missing = missing_dependencies()
    if missing:
        QgsMessageLog.logMessage(dependency_message(missing), LOG_TAG, Qgis.Warning)
    return bool(missing)


def engine_function(load):
    """The engine function an algorithm's ``load()`` imports (``from ..core import ...``),
    or a QgsProcessingException saying what to install when a dependency is missing."""
    try:
        return load()
    except ImportError as err:
        raise QgsProcessingException(dependency_message(error=err)) from err


# ---------------------------------------------------------------------------------------------
# Feedback, engine errors, logging
# ---------------------------------------------------------------------------------------------
class ProgressAdapter:
    """``progress_callback(fraction, message) -> cancel?`` on top of a QgsProcessingFeedback."""

    def __init__(self, feedback):
        self.feedback = feedback
        self._lock = threading.Lock()
        self._percent = -1.0
        self._message = None

    def __call__(self, fraction=None, message=None):
        with self._lock:
            if message and message != self._message:
                self._message = message
                self.feedback.setProgressText(message)
            if fraction is not None:
                percent = max(0.0, min(100.0, 100.0 * float(fraction)))
                if percent > self._percent:  # never move backwards
                    self._percent = percent
                    self.feedback.setProgress(percent)
        return self.feedback.isCanceled()


class _FeedbackLogHandler(logging.Handler):
    """Forwards the engine's INFO/DEBUG records of this run's thread to the feedback.

    Warnings are not forwarded here: they come back in ``result.warnings`` and are pushed once.
    Records from other threads (engine workers, other runs) are ignored: pushing them would
    mix runs and touch the feedback from threads Processing does not know about.
    """

    def __init__(self, feedback):
        super().__init__(logging.DEBUG)
        self.feedback = feedback
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.thread != self.thread or record.levelno >= logging.WARNING:
            return
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 (logging must never break the run)
            return
        if record.levelno >= logging.INFO:
            self.feedback.pushInfo(message)
        else:
            self.feedback.pushDebugInfo(message)


@contextmanager
def engine_log_to_feedback(feedback, debug):
    logger = logging.getLogger(CORE_LOGGER)
    handler = _FeedbackLogHandler(feedback)
    old_level = logger.level
    logger.addHandler(handler)
    if debug:
        logger.setLevel(logging.DEBUG)
    elif logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@contextmanager
def file_size_limit_as_error():
    """Ignore SIGXFSZ during the run (main thread only: qgis_process, scripts). A write past
    the file size limit (``ulimit -f``) then fails with "File too large", which the engine
    reports and cleans up after, instead of the signal killing QGIS and leaving temporary
    files behind."""
    sigxfsz = getattr(signal, "SIGXFSZ", None)
    if sigxfsz is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(sigxfsz)
    if previous is None:  # a handler installed outside Python: leave it alone
        yield
        return
    signal.signal(sigxfsz, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(sigxfsz, previous)


def run_engine(function, inputs, outputs, arguments, feedback):
    """Call the engine ``function`` with the feedback as its progress callback, its log on the
    feedback (all details with ``debug_logs``) and its warnings pushed once; its errors become
    QgsProcessingException with the engine's message."""
    from ..core import CancelledError, RadioMatchError

    with engine_log_to_feedback(feedback, arguments.get("debug_logs", False)), \
            file_size_limit_as_error():
        try:
            result = function(inputs, outputs, progress_callback=ProgressAdapter(feedback),
                              **arguments)
        except CancelledError as err:
            raise QgsProcessingException(tr("Canceled: {}").format(err) if str(err)
                                         else tr("Canceled.")) from err
        except (RadioMatchError, OSError) as err:
            raise QgsProcessingException(str(err)) from err
    for warning in result.warnings:
        feedback.pushWarning(str(warning))
    feedback.setProgress(100)
    return result
