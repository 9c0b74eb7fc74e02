"""The one exception the stack raises: its message is the single line shown to the user."""


class StackError(Exception):
    """A failure to report as one line (no stack trace): what failed, why, where its log is."""
