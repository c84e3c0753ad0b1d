"""The MLflow pyfunc wrapper, logged as "model from code": MLflow copies this file into the
logged model and runs it at load time, so the model holds no pickle, only this code and the
Hugging Face folder (artifact `hf_model`). Not imported by the library itself.

Input: a DataFrame with a string column `text`. Output: a DataFrame with `label` and one
probability column per label, named `prob_<label>`.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class StancePyfunc(PythonModel):
    def load_context(self, context) -> None:
        from stance import StanceClassifier
        from stance.names import MODEL_ARTIFACT

        self.classifier = StanceClassifier.from_pretrained(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        if "text" not in model_input:
            raise ValueError(f"input needs a 'text' column, got {list(model_input.columns)}")
        texts = [str(t) for t in model_input["text"].tolist()]
        proba = self.classifier.predict_proba(texts)
        labels = self.classifier.labels
        out = pd.DataFrame(proba, columns=[f"prob_{label}" for label in labels])
        out.insert(0, "label", [labels[i] for i in proba.argmax(axis=1)])
        return out


mlflow.models.set_model(StancePyfunc())
