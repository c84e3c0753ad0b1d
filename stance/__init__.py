"""Tell which side an English passage takes on Russia-US arms and missile-defense issues.

>>> from stance import StanceClassifier, LABELS
>>> LABELS
('pro_russia', 'pro_us', 'neutral')
"""

import logging

from stance.classifier import StanceClassifier
from stance.labels import LABELS
from stance.prediction import Evidence, Prediction

__all__ = ["LABELS", "Evidence", "Prediction", "StanceClassifier"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
