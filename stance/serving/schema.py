"""What the served model takes and gives: the MLflow signature it is logged with, the checks of a
request's rows, and the error a refused request is answered with. Shared by the pyfunc wrapper
(run by `mlflow models serve` and by Spark) and the training code that logs the model.

Input: one record per passage with a string `text` and, optionally, an `id` that comes back with
its row. Output: `id` (when given), `label` and `prob_<label>` per label. Bad rows (no text, not a
string, empty) make the request a 400 naming the first one; with the parameter `bad_rows="mark"`
(what Spark uses) they get a null label and a message in an `error` column instead.

>>> row_error("  "), row_error(7), row_error("Moscow objects.")
("'text' is empty or whitespace only", "'text' must be a string, got int", None)
"""

from __future__ import annotations

import math

from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from stance.text import clean_text

TEXT, ID, LABEL, ERROR = "text", "id", "label", "error"
PROB_PREFIX = "prob_"
BAD_ROWS = "bad_rows"
BAD_ROWS_MODES = ("refuse", "mark")
# About 500 news articles. A request is scored inside the server's 60 s timeout on 2 CPU cores;
# a 10 MB passage would hold a worker for minutes (and time out anyway).
MAX_REQUEST_CHARS = 1_000_000


class BadRequest(MlflowException):
    """A request the model refuses, answered by the scoring server as a 400 with this one line.

    MLflow's server prefixes a model's error with the whole request, over several lines
    (`Failed to predict data '<request>'`), which would echo megabytes back; the prefix is
    dropped here by ignoring that assignment to `message`.
    """

    def __init__(self, message: str):
        self._line = message
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._line

    @message.setter
    def message(self, value: str) -> None:
        pass  # keep the one line


def signature(labels: list[str]) -> ModelSignature:
    """The logged signature. `text` is marked optional only so that a request without it reaches
    the model, which answers in one line; MLflow's own schema check echoes the request instead."""
    inputs = Schema([ColSpec("string", TEXT, required=False), ColSpec("string", ID, required=False)])
    outputs = Schema([ColSpec("string", ID, required=False), ColSpec("string", LABEL)]
                     + [ColSpec("float", f"{PROB_PREFIX}{x}") for x in labels]
                     + [ColSpec("string", ERROR, required=False)])
    params = ParamSchema([ParamSpec(BAD_ROWS, "string", BAD_ROWS_MODES[0])])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def row_error(value: object) -> str | None:
    """Why a `text` value cannot be scored, or None when it can."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "'text' is missing (null)"
    if not isinstance(value, str):
        return f"'text' must be a string, got {type(value).__name__}"
    if not clean_text(value).strip():
        return "'text' is empty or whitespace only"
    return None


def check_request(columns: list[str], texts: list, ids: list | None, mode: str) -> list[str | None]:
    """Each row's error (None for a good row); a BadRequest for a request that cannot be scored,
    or, unless `mode` is "mark", has a bad row."""
    if mode not in BAD_ROWS_MODES:
        raise BadRequest(f"parameter {BAD_ROWS!r} must be one of {list(BAD_ROWS_MODES)}, got {mode!r}")
    if TEXT not in columns:
        raise BadRequest(f"the request has no {TEXT!r} column: send one record per passage, "
                         f'{{"dataframe_records": [{{"{TEXT}": "..."}}]}}')
    size = sum(len(t) for t in texts if isinstance(t, str))
    if size > MAX_REQUEST_CHARS:
        raise BadRequest(f"the request holds {size:,} characters of text, more than the "
                         f"{MAX_REQUEST_CHARS:,} allowed: send fewer or shorter passages at a time")
    errors = [row_error(t) for t in texts]
    bad = [i for i, e in enumerate(errors) if e]
    if bad and mode != "mark":
        first = bad[0]
        where = f"record {first}" + (f" (id {ids[first]!r})" if ids is not None else "")
        more = f" (and {len(bad) - 1} more bad record(s))" if len(bad) > 1 else ""
        raise BadRequest(f"{where}: {errors[first]}{more}")
    return errors
