"""Batch scoring of a Spark DataFrame through the logged MLflow model (`mlflow.pyfunc.spark_udf`).

Needs the optional extra: `pip install 'stance[spark]'` (pyspark, and Java 17+ for Spark).
Nothing here is home-made: Spark splits the rows, MLflow loads the model once per Python worker,
and the pyfunc scores each Arrow batch with `StanceClassifier` (long passages in windows). A row
whose text is null, empty or not a string gets a null label and a message in `stance_error`
instead of failing the job.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

_LABEL_COL = "stance_label"
_PROB_PREFIX = "stance_prob_"
_ERROR_COL = "stance_error"
_RESULT = "_stance_result"


def score(df, model_uri: str, text_col: str = "text"):
    """`df` with `stance_label`, one `stance_prob_<label>` column per label and `stance_error`
    (null for a scored row; why not, with a null label, for a null, empty or non-string text).

    `model_uri` is any MLflow model URI of the stance pyfunc (`models:/stance-classifier@champion`,
    `runs:/<id>/model`, a local folder); it is resolved on the driver, against the current
    MLflow tracking URI. `text_col` is a string column (a column of another type gives every row
    an error). Nothing runs until an action (write, count, collect) asks for the rows.

    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame([("Moscow sold S-400s to Ankara.",)], ["text"])  # doctest: +SKIP
    >>> score(df, "models:/stance-classifier@champion").select("stance_label").show()  # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    _check_columns(df.columns, text_col)
    labels, marks = _model_outputs(model_uri)
    kind = dict(df.dtypes)[text_col]
    if kind == "string":
        result = _scored(df, model_uri, text_col, labels, marks)
        error = F.col(f"{_RESULT}.error") if marks else F.lit(None).cast("string")
        # MLflow's spark_udf casts a string column mixing None and text with numpy's `str`,
        # which makes None "None", and keeps NaN probabilities (a value in Spark, not null): a
        # row is scored exactly when its error is null, and the other columns follow that.
        error = F.when(error != "None", error)
        label, probs = F.col(f"{_RESULT}.label"), [F.col(f"{_RESULT}.prob_{x}") for x in labels]
    else:  # a column of numbers, arrays, ...: nothing to score, every row says why
        result, error = df, F.lit(f"'text' must be a string, got {kind}")
        label, probs = F.lit(None).cast("string"), [F.lit(None).cast("double")] * len(labels)
    new_cols = [F.when(error.isNull(), label).alias(_LABEL_COL)]
    new_cols += [F.when(error.isNull(), prob).alias(f"{_PROB_PREFIX}{x}")
                 for prob, x in zip(probs, labels)]
    logger.info("scoring column %r with %s", text_col, model_uri)
    return result.select(*[F.col(f"`{c}`") for c in df.columns], *new_cols,
                         error.alias(_ERROR_COL))

def _scored(df, model_uri: str, text_col: str, labels: list[str], marks: bool):
    """`df` with the pyfunc's result struct (label, probabilities, error) in `_RESULT`."""
    import mlflow
    from pyspark.sql import functions as F

    fields = ", ".join(["label string"] + [f"prob_{label} double" for label in labels]
                       + (["error string"] if marks else []))
    _use_this_python(df.sparkSession)
    # env_manager="local": the workers use this Python environment, as `make serve` does.
    udf = mlflow.pyfunc.spark_udf(df.sparkSession, model_uri, result_type=fields,
                                  env_manager="local", params={"bad_rows": "mark"} if marks else None)
    return df.withColumn(_RESULT, udf(F.struct(F.col(f"`{text_col}`").alias("text"))))


def _use_this_python(session) -> None:
    """Local-mode workers start `$PYSPARK_PYTHON`, by default the `python3` on PATH: run from a
    virtual environment that is not activated, that is the system Python, without this package
    (`No module named 'pandas'` in every task). Unless an interpreter was chosen, the Python
    functions created from now on (the scoring UDF among them) run this one; a cluster's
    executors keep theirs. (A DataFrame built earlier from Python objects with
    `spark.createDataFrame` already carries `python3` for its own conversion.)"""
    context = session.sparkContext
    chosen = os.environ.get("PYSPARK_PYTHON") or context.getConf().get("spark.pyspark.python")
    if not context.master.startswith("local") or chosen:
        return
    os.environ["PYSPARK_PYTHON"] = sys.executable  # for sessions started later
    context.pythonExec = sys.executable  # what the Python UDFs created from now on run


def _model_outputs(model_uri: str) -> tuple[list[str], bool]:
    """The label names in column order, and whether the model can mark bad rows (models logged
    before it could fail the job on them instead, with a warning here)."""
    import mlflow

    signature = mlflow.models.get_model_info(model_uri).signature
    params = signature.params.params if signature is not None and signature.params else []
    marks = any(p.name == "bad_rows" for p in params)
    if not marks:
        logger.warning("model %s predates per-row errors: a null or empty text fails the job "
                       "(retrain it, or filter such rows first)", model_uri)
    return model_labels(model_uri), marks


def model_labels(model_uri: str) -> list[str]:
    """The label names, in column order, read from the model's output signature."""
    import mlflow

    signature = mlflow.models.get_model_info(model_uri).signature
    names = signature.outputs.input_names() if signature and signature.outputs else []
    labels = [n.removeprefix("prob_") for n in names if n.startswith("prob_")]
    if "label" not in names or not labels:
        raise ValueError(f"model {model_uri!r} has no stance output signature "
                         f"(label + prob_<label> columns); got outputs {names}")
    return labels


def _check_columns(columns: list[str], text_col: str) -> None:
    if text_col not in columns:
        raise ValueError(f"text_col {text_col!r} is not a column of the DataFrame {columns}")
    taken = [c for c in columns if c in (_LABEL_COL, _ERROR_COL, _RESULT) or c.startswith(_PROB_PREFIX)]
    if taken:
        raise ValueError(f"the DataFrame already has output column(s) {taken}; "
                         "rename or drop them first")
