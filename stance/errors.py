"""How every entry point reports a user's mistake: one line on stderr and exit code 1 (argparse
keeps 2 for usage errors); the traceback only with `--debug`.

>>> one_line(ValueError("bad value\\nmore detail"))
'bad value'
"""

from __future__ import annotations

import sys
from collections.abc import Callable

# What a user can cause: bad config, data, paths, stores, input. Anything else is a bug and
# keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, ImportError, KeyError)


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
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1
