"""The MLflow pyfunc wrapper, logged as "model from code": MLflow copies this file into the
logged model and runs it at load time, so the model holds no pickle, only this code and the
Hugging Face folder (artifact `hf_model`). Not imported by the library itself.

Input: a DataFrame with a string column `text` (and optionally `id`). Output: a DataFrame with
`id` (when given), `label` and one probability column per label, named `prob_<label>`; bad rows
are refused or marked as `stance.serving.schema` describes.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel


class StancePyfunc(PythonModel):
    def load_context(self, context) -> None:
        from stance import StanceClassifier
        from stance.names import MODEL_ARTIFACT

        self.classifier = StanceClassifier.from_pretrained(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        from stance.serving.schema import BAD_ROWS, ERROR, ID, LABEL, PROB_PREFIX, TEXT, check_request

        mode = (params or {}).get(BAD_ROWS) or "refuse"
        texts = model_input[TEXT].tolist() if TEXT in model_input else []
        ids = model_input[ID].tolist() if ID in model_input else None
        errors = check_request(list(model_input.columns), texts, ids, mode)
        good = [i for i, e in enumerate(errors) if e is None]
        labels = self.classifier.labels
        proba = np.full((len(texts), len(labels)), np.nan)
        if good:
            proba[good] = self.classifier.predict_proba([texts[i] for i in good])
        out = pd.DataFrame(proba, columns=[f"{PROB_PREFIX}{label}" for label in labels])
        out.insert(0, LABEL, [labels[int(row.argmax())] if e is None else None
                              for row, e in zip(proba, errors)])
        if ids is not None:
            out.insert(0, ID, ids)
        if mode == "mark":
            out[ERROR] = errors
        # Nulls, not NaN (rows not scored, ids missing from some records): NaN is not JSON.
        return out.astype(object).where(out.notna(), None) if out.isna().any().any() else out


mlflow.models.set_model(StancePyfunc())
