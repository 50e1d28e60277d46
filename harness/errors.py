"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class HarnessError(Exception):
    """A problem with the user's input or environment, stated so that they can fix it."""


class DataError(HarnessError):
    """A data file is missing, corrupt or not what the task expects; the message names the file."""
