"""The input layer: every X format to one ragged form, and clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skrnn._sequences import split_steps, validate_sequences, validate_step_targets
from skrnn._tokens import TokenSequences


class Est:
    """A stand-in estimator that receives the fitted input attributes."""


def fit(X):
    est = Est()
    return est, validate_sequences(est, X, reset=True)


def test_ragged_list_to_flat_values_and_offsets():
    X = [np.arange(6.0).reshape(3, 2), np.zeros((0, 2)), np.ones((2, 2))]
    est, seqs = fit(X)
    np.testing.assert_array_equal(seqs.offsets, [0, 3, 3, 5])
    np.testing.assert_array_equal(seqs.values, np.concatenate(X))
    assert seqs.values.flags.c_contiguous and seqs.values.dtype == np.float64
    assert est.n_features_in_ == 2 and est._input_kind == "sequences"
    assert not np.shares_memory(seqs.values, X[0])
    np.testing.assert_array_equal(seqs.lengths, [3, 0, 2])


def test_all_formats_agree():
    rng = np.random.RandomState(0)
    cube = rng.normal(size=(4, 5, 1))
    formats = [
        cube, list(cube), [c[:, 0] for c in cube], tuple(c[:, 0] for c in cube),
        pd.Series([c[:, 0] for c in cube]), [pd.Series(c[:, 0]) for c in cube],
        [pd.DataFrame(c) for c in cube], cube[:, :, 0], pd.DataFrame(cube[:, :, 0]),
        [list(c[:, 0]) for c in cube], np.array([c[:, 0] for c in cube] + [None], dtype=object)[:-1],
    ]
    for X in formats:
        _, seqs = fit(X)
        np.testing.assert_array_equal(seqs.values, cube.reshape(20, 1))
        np.testing.assert_array_equal(seqs.offsets, [0, 5, 10, 15, 20])


def test_tables_own_their_width_and_names():
    est, seqs = fit(np.ones((3, 7)))
    assert est.n_features_in_ == 7 and est._n_step_features == 1 and est._input_kind == "table"
    df = pd.DataFrame(np.ones((3, 2)), columns=["a", "b"])
    est, _ = fit(df)
    assert list(est.feature_names_in_) == ["a", "b"]
    with pytest.warns(UserWarning, match="fitted with feature names"):
        with pytest.raises(ValueError, match="X has 3 features, but Est is expecting 2"):
            validate_sequences(est, np.ones((3, 3)), reset=False)
    # A 3-D array may change T at predict.
    est, _ = fit(np.ones((3, 4, 2)))
    assert est.n_features_in_ == 2
    validate_sequences(est, np.ones((2, 9, 2)), reset=False)


def test_dataframe_sequences_give_step_feature_names():
    frames = [pd.DataFrame(np.ones((t, 2)), columns=["temp", "load"]) for t in (3, 5)]
    est, _ = fit(frames)
    assert list(est.feature_names_in_) == ["temp", "load"]
    est2, _ = fit([np.ones((3, 2))])
    assert not hasattr(est2, "feature_names_in_")
    with pytest.raises(ValueError, match="column names differ"):
        validate_sequences(est, [f.rename(columns={"load": "x"}) for f in frames], reset=False)


def test_dtypes():
    _, seqs = fit([np.ones((2, 1), dtype=np.float32), np.ones((3, 1), dtype=np.float32)])
    assert seqs.dtype == np.float32 and seqs.values.dtype == np.float32
    _, seqs = fit([np.ones((2, 1), dtype=np.float32), np.ones((3, 1))])
    assert seqs.dtype == np.float64
    _, seqs = fit([np.ones(3, dtype=int), np.array([True, False])])
    assert seqs.dtype == np.float64
    _, seqs = fit(np.ones((2, 3, 1), dtype=np.float32))
    assert seqs.dtype == np.float32


def test_inputs_never_modified_and_readonly_accepted():
    X = [np.arange(4.0), np.arange(3.0)]
    copies = [x.copy() for x in X]
    for x in X:
        x.setflags(write=False)
    _, seqs = fit(X)
    seqs.values[:] = -1
    for x, c in zip(X, copies):
        np.testing.assert_array_equal(x, c)
    cube = np.asfortranarray(np.ones((2, 3, 2)))
    cube.setflags(write=False)
    _, seqs = fit(cube)
    assert seqs.values.flags.writeable and seqs.values.flags.c_contiguous


def test_tokens():
    tok = TokenSequences(np.array([1, 2, 0]), np.array([0, 2, 3]), 5, dtype=np.float32)
    est, seqs = fit(tok)
    assert seqs.is_tokens and seqs.n_features == 5 and seqs.dtype == np.float32
    assert est.n_features_in_ == 5 and est._input_kind == "tokens"
    with pytest.raises(ValueError, match="vocabulary of 6 tokens"):
        validate_sequences(est, TokenSequences(np.array([1]), np.array([0, 1]), 6), reset=False)
    with pytest.raises(ValueError, match="fitted on token sequences"):
        validate_sequences(est, [np.ones(3)], reset=False)
    dense, _ = fit([np.ones(3)])
    with pytest.raises(ValueError, match="fitted on dense"):
        validate_sequences(dense, tok, reset=False)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ([], ValueError, "0 sample"),
        (np.ones((0, 3)), ValueError, "0 sample"),
        (np.ones((3, 0)), ValueError, "0 feature"),
        (np.ones((3, 4, 0)), ValueError, "0 feature"),
        (np.arange(5.0), ValueError, "1-D array.*Reshape"),
        (np.ones((2, 2, 2, 2)), ValueError, "4 dimensions"),
        ([np.ones((2, 2)), np.ones((3, 3))], ValueError, "Sequence 1 of X has 3 features"),
        ([np.ones((2, 2, 2))], ValueError, "Sequence 0 of X has 3 dimensions"),
        ([np.array([1.0, np.nan])], ValueError, r"NaN \(sequence 0, step 1\)"),
        ([np.ones(2), np.array([1.0, np.inf, 2.0])], ValueError, r"infinity \(sequence 1, step 1\)"),
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        ([np.array(["a", "b"])], TypeError, "dtype <U1"),
        (["some text"], TypeError, "string.*TextOneHotEncoder"),
        ("text", TypeError, "single string"),
        ([np.array([1, "a"], dtype=object)], TypeError, "non-numeric"),
        ([np.array([1 + 2j])], ValueError, "Complex data not supported"),
        ([3.0, 4.0], ValueError, "scalar, not a sequence"),
        (sp.csr_matrix(np.ones((2, 2))), TypeError, "Sparse data"),
        (42, TypeError, "expects a list of sequences"),
    ],
)
def test_bad_input_is_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        fit(X)


def test_predict_width_checks():
    est, _ = fit([np.ones((3, 2))])
    with pytest.raises(ValueError, match="3 features per step.*fitted on sequences with 2"):
        validate_sequences(est, [np.ones((3, 3))], reset=False)
    with pytest.raises(ValueError, match="2-D table of univariate"):
        validate_sequences(est, np.ones((3, 4)), reset=False)
    uni, _ = fit([np.ones(3), np.ones(5)])
    validate_sequences(uni, np.ones((2, 4)), reset=False)  # a table of univariate sequences


def test_step_targets_and_split():
    _, seqs = fit([np.ones(3), np.ones(0), np.ones(2)])
    flat = validate_step_targets([["a", "b", "c"], [], np.array(["d", "e"])], seqs)
    np.testing.assert_array_equal(flat, list("abcde"))
    parts = split_steps(flat, seqs.offsets)
    assert [list(p) for p in parts] == [list("abc"), [], list("de")]
    with pytest.raises(ValueError, match=r"y\[2\] has 1 labels but X sequence 2 has 2 steps"):
        validate_step_targets([[1, 2, 3], [], [1]], seqs)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\]"):
        validate_step_targets([[1, 2, 3], []], seqs)
    with pytest.raises(ValueError, match=r"y\[0\] must be a 1-D"):
        validate_step_targets([np.ones((3, 1)), [], [1, 2]], seqs)
