"""Tell which side an English passage takes on Russia-US arms and missile-defense issues.

>>> from stance import StanceClassifier, LABELS
>>> LABELS
('pro_russia', 'pro_us', 'neutral')
"""

import logging

from stance.labels import LABELS
from stance.model import Prediction, StanceClassifier

__all__ = ["LABELS", "Prediction", "StanceClassifier"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
