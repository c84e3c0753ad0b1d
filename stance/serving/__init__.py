"""Scoring at scale: the MLflow pyfunc wrapper (`pyfunc`, served by `mlflow models serve`), Spark
batch scoring through it (`spark`), and a local scoring server for scripts and tests (`server`)."""
