"""TF-IDF word n-grams and logistic regression; saved for the `linear` backend."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from stance import LABELS, StanceClassifier
from stance.backends import FolderConfig
from stance.backends.linear import LinearBackend


def fit(config, splits, context) -> StanceClassifier:
    b = config.baseline
    vectorizer = TfidfVectorizer(ngram_range=(1, b.ngram_max), min_df=b.min_df, sublinear_tf=True,
                                 strip_accents="unicode")
    features = vectorizer.fit_transform(splits["train"]["text"])
    classifier = LogisticRegression(C=b.c, max_iter=2000, random_state=config.seed)
    classifier.fit(features, splits["train"]["label"])
    folder_config = FolderConfig.for_labels(LABELS, stance_family="tfidf")
    return StanceClassifier(LinearBackend.from_sklearn(vectorizer, classifier, folder_config))
