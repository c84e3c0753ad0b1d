"""How every entry point reports a user's mistake: one line on stderr and exit code 1 (argparse
keeps 2 for usage errors); the traceback only with `--debug`.

>>> one_line(ValueError("bad value\\nmore detail"))
'bad value'
"""

from __future__ import annotations

import sys
from collections.abc import Callable

# What a user can cause: bad config, data, paths, stores, input. Anything else is a bug and
# keeps its traceback. MLflow's own errors (an unknown store scheme, an unreachable server, a
# missing run) count too; they are recognised without importing mlflow here.
USER_ERRORS = (ValueError, TypeError, OSError, ImportError, KeyError)


def is_user_error(exc: BaseException) -> bool:
    """True for the errors a user can cause and fix (see USER_ERRORS), MLflow's included.

    >>> is_user_error(ValueError("bad")), is_user_error(ZeroDivisionError())
    (True, False)
    """
    if isinstance(exc, USER_ERRORS):
        return True
    mlflow_errors = sys.modules.get("mlflow.exceptions")
    return mlflow_errors is not None and isinstance(exc, mlflow_errors.MlflowException)


def one_line(exc: BaseException) -> str:
    """The first line of the error's message (data errors summarise every problem there)."""
    text = str(exc).strip()
    problems = getattr(exc, "problems", None)
    if problems:
        more = f" (and {len(problems) - 1} more: run `stance data check`)" if len(problems) > 1 else ""
        return f"{problems[0]}{more}"
    if isinstance(exc, KeyError) and text:
        text = text.strip("'\"")
    return text.splitlines()[0] if text else type(exc).__name__


def report_errors(prog: str, run: Callable[[], int | None], debug: bool) -> int:
    """Call `run`; a user error becomes `prog: error: <one line>` on stderr and exit code 1."""
    try:
        return run() or 0
    except Exception as exc:
        if debug or not is_user_error(exc):
            raise
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1
