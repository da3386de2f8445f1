"""The one exception type for mistakes a user can fix (bad flag, missing token, bad recipe)."""


class UserError(Exception):
    """An error caused by the user's input or set-up; the CLI prints its message, no traceback.

    The message must say what is wrong and how to fix it.
    """
