"""Seeded sequence datasets that need no network.

Generators of synthetic tasks (the adding problem, arithmetic progressions),
text corpora in which word order decides (movie-review sentiment, entity
tags), time series with a helper cutting them into ragged windows, and the
bundled digits read as sequences of pixel rows.  They depend only on numpy,
pandas and scikit-learn.
"""

from ._digits import load_digits_sequences
from ._series import make_ar_series, make_seasonal_series, series_to_windows
from ._synthetic import make_adding_problem, make_next_value_sequences
from ._text import make_entity_sentences, make_movie_reviews

__all__ = [
    "load_digits_sequences",
    "make_adding_problem",
    "make_ar_series",
    "make_entity_sentences",
    "make_movie_reviews",
    "make_next_value_sequences",
    "make_seasonal_series",
    "series_to_windows",
]
