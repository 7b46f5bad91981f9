"""Recurrent neural networks as scikit-learn estimators."""

from ._classifier import RNNClassifier
from ._regressor import RNNRegressor
from ._tagger import RNNSequenceTagger
from ._text import TextOneHotEncoder

__version__ = "0.1.0.dev0"

__all__ = [
    "RNNClassifier",
    "RNNRegressor",
    "RNNSequenceTagger",
    "TextOneHotEncoder",
    "__version__",
]
