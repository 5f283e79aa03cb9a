"""Exceptions raised by the engine."""


class RadioMatchError(ValueError):
    """Bad input or a failed run; the message names the file or parameter and the problem."""


class CancelledError(RuntimeError):
    """The run was cancelled through the progress callback; partial outputs were removed."""
