"""scikit-learn's own estimator checks, with no expected failure."""

import pytest
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger

# Small and quick, yet able to pass the checks that demand a decent score.
FAST = dict(hidden_layer_sizes=(16,), max_iter=50, learning_rate_init=0.01, random_state=0)


@parametrize_with_checks([RNNClassifier(**FAST), RNNRegressor(**FAST)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_estimators_unfitted,
        check_get_params_invariance,
        check_set_params,
        check_parameters_default_constructible,
    ],
)
def test_tagger_non_fitting_checks(check):
    # sklearn's fitting checks pass 1-D y, which a tagger cannot take; its
    # fitting behaviour is covered in test_tagger.py.
    check("RNNSequenceTagger", RNNSequenceTagger(**FAST))
