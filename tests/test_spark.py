"""Spark batch scoring (`stance.serving.spark.score`, i.e. `mlflow.pyfunc.spark_udf`) in local mode gives
what `StanceClassifier.predict` gives on the same passages."""

from __future__ import annotations

import sys

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
                              + [f"stance_prob_{x}" for x in LABELS])
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
