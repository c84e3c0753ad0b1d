"""Spark batch scoring (`stance.serving.spark.score`, i.e. `mlflow.pyfunc.spark_udf`) in local mode gives
what `StanceClassifier.predict` gives on the same passages; bad rows get an error, not a failed
job; and it works from a virtual environment's Python that was never activated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stance import LABELS, StanceClassifier
from tests.helpers import assert_matches, data_passages, long_passage

pytestmark = [pytest.mark.slow, pytest.mark.spark]

CHAMPION = "models:/stance-classifier@champion"


@pytest.fixture(scope="module")
def spark():
    """Two local cores, small memory, no UI, driver bound to loopback."""
    from pyspark.sql import SparkSession  # the `spark` extra; missing it is an error, not a skip

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYSPARK_PYTHON", sys.executable)  # workers import this venv's packages
        mp.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (SparkSession.builder.master("local[2]").appName("stance-test")
                   .config("spark.driver.memory", "1g")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "2")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


def test_spark_scores_equal_the_library(spark, smoke_run):
    from stance.serving.spark import score

    texts = data_passages(199) + [long_passage()]
    rows = [(f"p{i:03d}", text) for i, text in enumerate(texts)]
    df = spark.createDataFrame(rows, ["id", "passage"]).repartition(2, "id")
    assert df.rdd.getNumPartitions() == 2
    scored = score(df, CHAMPION, text_col="passage")
    assert scored.columns == (["id", "passage", "stance_label"]
                              + [f"stance_prob_{x}" for x in LABELS] + ["stance_error"])
    got = {r["id"]: r for r in scored.collect()}
    assert len(got) == len(texts)
    clf = StanceClassifier.from_pretrained(CHAMPION, device="cpu")
    for (key, _), want in zip(rows, clf.predict(texts)):
        row = got[key]
        assert_matches(row["stance_label"], {x: row[f"stance_prob_{x}"] for x in LABELS}, want)


def test_score_names_a_missing_or_clashing_column(spark, smoke_run):
    from stance.serving.spark import score

    df = spark.createDataFrame([("S-400s for Ankara.", "x")], ["text", "stance_label"])
    with pytest.raises(ValueError, match="'body'"):
        score(df, CHAMPION, text_col="body")
    with pytest.raises(ValueError, match="stance_label"):
        score(df, CHAMPION)


def test_null_empty_and_non_string_texts_get_an_error_not_a_failed_job(spark, smoke_run):
    from stance.serving.spark import score

    good = data_passages(3)
    rows = [("p0", good[0]), ("p1", None), ("p2", ""), ("p3", good[1]), ("p4", " \u200b\t"),
            ("p5", good[2])]
    df = spark.createDataFrame(rows, "id string, text string").repartition(2, "id")
    got = {r["id"]: r for r in score(df, CHAMPION).collect()}
    errors = {key: got[key]["stance_error"] for key in ("p1", "p2", "p4")}
    assert errors == {"p1": "'text' is missing (null)", "p2": "'text' is empty or whitespace only",
                      "p4": "'text' is empty or whitespace only"}
    assert all(got[k]["stance_label"] is None and got[k]["stance_prob_pro_us"] is None
               for k in errors)
    clf = StanceClassifier.from_pretrained(CHAMPION, device="cpu")
    for key, want in zip(("p0", "p3", "p5"), clf.predict(good)):
        row = got[key]
        assert row["stance_error"] is None
        assert_matches(row["stance_label"], {x: row[f"stance_prob_{x}"] for x in LABELS}, want)
    numbers = spark.createDataFrame([(1,), (2,)], "n int")
    assert {r["stance_error"] for r in score(numbers, CHAMPION, text_col="n").collect()} == \
        {"'text' must be a string, got int"}


SCORE_JOB = """
import sys
from pyspark.sql import SparkSession
from stance.serving.spark import score
spark = (SparkSession.builder.master("local[2]").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false")
         .getOrCreate())
df = spark.read.json(sys.argv[1]).repartition(2)  # as the README does
print(sorted(r["stance_error"] is None for r in score(df, "models:/stance-classifier@champion")
             .collect()))
"""


def test_scoring_from_a_venv_python_that_was_never_activated(smoke_run, tmp_path):
    """Local-mode workers start `python3` from PATH unless told otherwise; here that `python3`
    is one without this project's packages (a stand-in that fails, as the system Python does
    with `No module named 'pandas'`). The workers must run the driver's interpreter instead."""
    import pyspark

    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("python3", "python"):
        (fake / name).write_text("#!/bin/sh\necho 'not the driver Python' >&2\nexit 3\n")
        (fake / name).chmod(0o755)
    venv_bin = str(Path(sys.executable).parent)
    path = [str(fake)] + [p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "VIRTUAL_ENV"))}
    env |= {"PATH": os.pathsep.join(path), "SPARK_HOME": str(Path(pyspark.__file__).parent)}
    passages = tmp_path / "passages.jsonl"
    passages.write_text('{"text": "Moscow sold S-400s to Ankara."}\n{"text": "Talks resume."}\n')
    result = subprocess.run([sys.executable, "-c", SCORE_JOB, str(passages)], capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[True, True]"
