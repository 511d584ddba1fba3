"""The one exception type for bad input or a missing resource: the CLI prints it without a traceback."""


class HarnessError(RuntimeError):
    """An error caused by the user's input or environment, with a message saying how to fix it."""
