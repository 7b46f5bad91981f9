"""The input layer: every X format -> Sequences, predict-time checks, tagger y."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.utils._testing import create_memmap_backed_data

from skrnn._sequences import (
    Sequences,
    check_n_samples,
    split_steps,
    validate_sequences,
    validate_step_targets,
)
from skrnn._tokens import TokenSequences


class Est:
    """Stand-in estimator: validate_sequences only sets/reads attributes."""


def fit(X):
    est = Est()
    seqs = validate_sequences(est, X, reset=True)
    return est, seqs


def check_form(seqs):
    assert seqs.offsets.dtype == np.int64
    assert seqs.offsets[0] == 0 and seqs.offsets[-1] == seqs.values.shape[0]
    assert seqs.n_samples == seqs.offsets.shape[0] - 1
    np.testing.assert_array_equal(seqs.lengths, np.diff(seqs.offsets))
    if not seqs.is_tokens:
        assert seqs.values.ndim == 2 and seqs.values.shape[1] == seqs.n_features
        assert seqs.values.flags.c_contiguous
        assert seqs.values.dtype == seqs.dtype
        assert seqs.dtype in (np.float32, np.float64)


# -- data -------------------------------------------------------------------
RNG = np.random.RandomState(0)
CUBE = RNG.normal(size=(4, 5, 2))  # equal lengths, F=2
RAGGED2 = [RNG.normal(size=(t, 2)) for t in (3, 1, 4)]
RAGGED1 = [RNG.normal(size=t) for t in (3, 1, 4)]
REF2 = np.concatenate(RAGGED2)
REF1 = np.concatenate(RAGGED1)[:, None]
OFFS = np.array([0, 3, 4, 8])


def _object_array(items):
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


RAGGED1_FORMATS = {
    "list of 1-D arrays": lambda: list(RAGGED1),
    "tuple": lambda: tuple(RAGGED1),
    "list of lists": lambda: [s.tolist() for s in RAGGED1],
    "Series of arrays": lambda: pd.Series(RAGGED1),
    "object ndarray": lambda: _object_array(RAGGED1),
    "list of Series": lambda: [pd.Series(s) for s in RAGGED1],
    "list of (T, 1) arrays": lambda: [s[:, None] for s in RAGGED1],
}

RAGGED2_FORMATS = {
    "list of 2-D arrays": lambda: list(RAGGED2),
    "tuple of 2-D arrays": lambda: tuple(RAGGED2),
    "list of nested lists": lambda: [s.tolist() for s in RAGGED2],
    "Series of 2-D arrays": lambda: pd.Series(RAGGED2),
    "object ndarray of 2-D": lambda: _object_array(RAGGED2),
    "list of DataFrames": lambda: [pd.DataFrame(s) for s in RAGGED2],
}


# -- every format ------------------------------------------------------------
@pytest.mark.parametrize("name", list(RAGGED1_FORMATS))
def test_ragged_univariate_formats(name):
    est, seqs = fit(RAGGED1_FORMATS[name]())
    check_form(seqs)
    np.testing.assert_array_equal(seqs.values, REF1)
    np.testing.assert_array_equal(seqs.offsets, OFFS)
    assert seqs.n_features == 1 and not seqs.is_tokens
    assert est.n_features_in_ == 1
    assert est._n_step_features == 1
    assert est._input_kind == "sequences"
    assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize("name", list(RAGGED2_FORMATS))
def test_ragged_multivariate_formats(name):
    est, seqs = fit(RAGGED2_FORMATS[name]())
    check_form(seqs)
    np.testing.assert_array_equal(seqs.values, REF2)
    np.testing.assert_array_equal(seqs.offsets, OFFS)
    assert est.n_features_in_ == 2 and est._n_step_features == 2
    assert est._input_kind == "sequences"
    # DataFrames with the default integer columns carry no names
    assert not hasattr(est, "feature_names_in_")


def test_list_of_dataframes_sets_step_feature_names():
    frames = [pd.DataFrame(s, columns=["speed", "angle"]) for s in RAGGED2]
    est, seqs = fit(frames)
    np.testing.assert_array_equal(seqs.values, REF2)
    assert est.n_features_in_ == 2
    assert isinstance(est.feature_names_in_, np.ndarray)
    assert est.feature_names_in_.dtype == object
    assert list(est.feature_names_in_) == ["speed", "angle"]
    # mixed DataFrames and arrays: no names
    est2, _ = fit([frames[0], RAGGED2[1]])
    assert not hasattr(est2, "feature_names_in_")


def test_table_formats():
    table = CUBE[:, :, 0]
    for X in (table, pd.DataFrame(table), [list(r) for r in table], np.asfortranarray(table)):
        est, seqs = fit(X)
        check_form(seqs)
        np.testing.assert_array_equal(seqs.values, table.reshape(-1, 1))
        np.testing.assert_array_equal(seqs.offsets, np.arange(5) * 5)
        assert est.n_features_in_ == 5  # the table's width
        assert est._n_step_features == 1
        assert est._input_kind == "table"
        assert not hasattr(est, "feature_names_in_")


def test_dataframe_table_feature_names():
    cols = [f"t{i}" for i in range(5)]
    df = pd.DataFrame(CUBE[:, :, 0], columns=cols)
    est, seqs = fit(df)
    assert est.n_features_in_ == 5
    assert est.feature_names_in_.dtype == object
    assert list(est.feature_names_in_) == cols
    # mixed column name types: sklearn's TypeError
    bad = pd.DataFrame(CUBE[:, :3, 0], columns=["a", 1, "c"])
    with pytest.raises(TypeError, match="Feature names are only supported if all"):
        fit(bad)


def test_3d_array():
    est, seqs = fit(CUBE)
    check_form(seqs)
    np.testing.assert_array_equal(seqs.values, CUBE.reshape(-1, 2))
    np.testing.assert_array_equal(seqs.offsets, np.arange(5) * 5)
    assert est.n_features_in_ == 2 and est._n_step_features == 2
    assert est._input_kind == "sequences"


def test_3d_array_with_zero_steps_is_zero_length_sequences():
    est, seqs = fit(np.empty((3, 0, 2)))
    np.testing.assert_array_equal(seqs.offsets, [0, 0, 0, 0])
    assert seqs.values.shape == (0, 2)


def test_tokens():
    tok = TokenSequences([1, 2, 3, 0], [0, 1, 1, 4], 6, dtype=np.float32)
    est, seqs = fit(tok)
    assert seqs.is_tokens
    assert seqs.values.dtype == np.int64 and seqs.values.ndim == 1
    np.testing.assert_array_equal(seqs.values, [1, 2, 3, 0])
    np.testing.assert_array_equal(seqs.offsets, [0, 1, 1, 4])
    assert seqs.n_features == 6 and seqs.dtype == np.float32
    assert est.n_features_in_ == 6 and est._n_step_features == 6
    assert est._input_kind == "tokens"
    # copies, not the container's arrays
    assert not np.shares_memory(seqs.values, tok.token_ids)
    assert not np.shares_memory(seqs.offsets, tok.offsets)


def test_same_data_same_values_across_formats():
    ref = fit(CUBE)[1]
    for X in (list(CUBE), tuple(CUBE), [c.tolist() for c in CUBE], pd.Series(list(CUBE)),
              _object_array(list(CUBE)), [pd.DataFrame(c) for c in CUBE]):
        seqs = fit(X)[1]
        np.testing.assert_array_equal(seqs.values, ref.values)
        np.testing.assert_array_equal(seqs.offsets, ref.offsets)
        assert seqs.dtype == ref.dtype
    uni = fit(CUBE[:, :, :1])[1]
    for X in (CUBE[:, :, 0], pd.DataFrame(CUBE[:, :, 0]), list(CUBE[:, :, 0])):
        seqs = fit(X)[1]
        np.testing.assert_array_equal(seqs.values, uni.values)
        np.testing.assert_array_equal(seqs.offsets, uni.offsets)


def test_zero_length_sequences_preserved():
    X = [np.ones((2, 3)), np.empty((0, 3)), [], np.zeros((1, 3)), np.array([])]
    est, seqs = fit(X)
    check_form(seqs)
    np.testing.assert_array_equal(seqs.lengths, [2, 0, 0, 1, 0])
    np.testing.assert_array_equal(seqs.offsets, [0, 2, 2, 2, 3, 3])
    assert est.n_features_in_ == 3
    # a zero-length 1-D sequence does not decide F, nor force float64
    est, seqs = fit([[], np.ones((2, 4), dtype=np.float32)])
    assert seqs.n_features == 4 and seqs.dtype == np.float32
    np.testing.assert_array_equal(seqs.offsets, [0, 0, 2])
    # only empty sequences
    est, seqs = fit([[], []])
    assert seqs.values.shape == (0, 1)
    np.testing.assert_array_equal(seqs.offsets, [0, 0, 0])


# -- dtypes -----------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype, expected",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float16, np.float64),
        (np.int32, np.float64),
        (np.int64, np.float64),
        (np.uint8, np.float64),
        (bool, np.float64),
    ],
)
def test_dtype_rules(dtype, expected):
    table = (CUBE[:, :, 0] > 0).astype(dtype)
    cube = (CUBE > 0).astype(dtype)
    ragged = [(s > 0).astype(dtype) for s in RAGGED2]
    for X in (table, pd.DataFrame(table), cube, ragged, [pd.DataFrame(s) for s in ragged]):
        seqs = fit(X)[1]
        assert seqs.dtype == expected and seqs.values.dtype == expected


def test_mixed_float_dtypes_give_float64():
    X = [RAGGED2[0].astype(np.float32), RAGGED2[1]]
    seqs = fit(X)[1]
    assert seqs.dtype == np.float64
    np.testing.assert_array_equal(seqs.values, np.concatenate(
        [RAGGED2[0].astype(np.float32).astype(np.float64), RAGGED2[1]]))
    X = [RAGGED2[0].astype(np.float32), RAGGED2[1].astype(int)]
    assert fit(X)[1].dtype == np.float64


def test_object_arrays_of_numbers_converted():
    table = CUBE[:, :, 0].astype(object)
    seqs = fit(table)[1]
    assert seqs.dtype == np.float64
    np.testing.assert_array_equal(seqs.values.ravel(), CUBE[:, :, 0].ravel())
    seqs = fit([s.astype(object) for s in RAGGED2])[1]
    np.testing.assert_array_equal(seqs.values, REF2)
    seqs = fit(CUBE.astype(object))[1]
    np.testing.assert_array_equal(seqs.values, CUBE.reshape(-1, 2))


def test_pandas_nullable_columns():
    frame = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"),
                          "b": pd.array([0.5, 1.5, 2.5], dtype="Float64")})
    seqs = fit([frame, frame.iloc[:1]])[1]
    np.testing.assert_array_equal(seqs.values, [[1, 0.5], [2, 1.5], [3, 2.5], [1, 0.5]])
    frame.loc[1, "a"] = pd.NA
    with pytest.raises(ValueError, match="NaN \\(sequence 0, step 1\\)"):
        fit([frame])


# -- inputs: not modified, not aliased, readonly, F-ordered ------------------
def _all_formats():
    formats = {**{k: f() for k, f in RAGGED1_FORMATS.items()},
               **{k: f() for k, f in RAGGED2_FORMATS.items()}}
    formats["table"] = CUBE[:, :, 0].copy()
    formats["DataFrame table"] = pd.DataFrame(CUBE[:, :, 0].copy())
    formats["3-D"] = CUBE.copy()
    formats["float32 3-D"] = CUBE.astype(np.float32)
    formats["one float32 sequence"] = [RAGGED2[0].astype(np.float32)]
    return formats


def _arrays_of(X):
    if isinstance(X, (np.ndarray,)) and X.dtype != object:
        return [X]
    if isinstance(X, pd.DataFrame):
        return [X.to_numpy()]
    out = []
    for item in (X.tolist() if isinstance(X, pd.Series) else list(X)):
        if isinstance(item, (pd.DataFrame, pd.Series)):
            out.append(item.to_numpy())
        elif isinstance(item, np.ndarray):
            out.append(item)
    return out


@pytest.mark.parametrize("name", list(_all_formats()))
def test_input_not_modified_nor_aliased(name):
    X = _all_formats()[name]
    import copy

    before = copy.deepcopy(X)
    seqs = fit(X)[1]
    seqs.values[...] = 12345.0  # writing into the result ...
    # ... leaves the user's data untouched
    if isinstance(X, (pd.DataFrame, pd.Series)):
        if isinstance(X, pd.DataFrame):
            pd.testing.assert_frame_equal(X, before)
        else:
            for a, b in zip(X, before):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    elif isinstance(X, np.ndarray) and X.dtype != object:
        np.testing.assert_array_equal(X, before)
    else:
        for a, b in zip(X, before):
            if isinstance(a, pd.DataFrame):
                pd.testing.assert_frame_equal(a, b)
            else:
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for arr in _arrays_of(X):
        assert not np.shares_memory(seqs.values, arr)


def test_readonly_memmap_and_fortran_input(tmp_path):
    for X in (CUBE[:, :, 0], CUBE, CUBE.astype(np.float32)):
        mm = create_memmap_backed_data(X)
        assert not mm.flags.writeable
        seqs = fit(mm)[1]
        assert seqs.values.flags.writeable and seqs.values.flags.c_contiguous
        assert not np.shares_memory(seqs.values, mm)
        np.testing.assert_array_equal(seqs.values.ravel(), np.ascontiguousarray(X).ravel())
        fx = np.asfortranarray(X)
        seqs = fit(fx)[1]
        assert seqs.values.flags.c_contiguous
        np.testing.assert_array_equal(seqs.values.ravel(), np.ascontiguousarray(X).ravel())
    ro = [s.copy() for s in RAGGED2]
    for s in ro:
        s.flags.writeable = False
    seqs = fit(ro)[1]
    np.testing.assert_array_equal(seqs.values, REF2)
    assert seqs.values.flags.writeable
    seqs = fit([np.asfortranarray(s) for s in RAGGED2])[1]
    np.testing.assert_array_equal(seqs.values, REF2)


def test_sequences_pickle():
    seqs = fit(RAGGED2)[1]
    back = pickle.loads(pickle.dumps(seqs))
    np.testing.assert_array_equal(back.values, seqs.values)
    np.testing.assert_array_equal(back.offsets, seqs.offsets)
    assert (back.n_features, back.is_tokens, back.dtype) == (2, False, np.float64)
    assert back.n_samples == 3
    np.testing.assert_array_equal(back.lengths, [3, 1, 4])


def test_sequences_direct_construction():
    s = Sequences(np.zeros((3, 2)), np.array([0, 1, 3]), 2)
    assert s.dtype == np.float64 and s.n_samples == 2 and not s.is_tokens
    assert "n_samples=2" in repr(s)
    with pytest.raises(ValueError, match="explicit float dtype"):
        Sequences(np.zeros(3, dtype=np.int64), np.array([0, 3]), 5, True)


# -- errors -----------------------------------------------------------------
@pytest.mark.parametrize(
    "X, exc, match",
    [
        ([], ValueError, r"0 sample\(s\)"),
        ((), ValueError, r"0 sample\(s\)"),
        (np.empty((0, 3)), ValueError, r"0 sample\(s\)"),
        (np.empty((0, 3, 2)), ValueError, r"0 sample\(s\)"),
        (pd.Series([], dtype=object), ValueError, r"0 sample\(s\)"),
        (TokenSequences([], [0], 3), ValueError, r"0 sample\(s\)"),
        (np.empty((3, 0)), ValueError,
         r"0 feature\(s\) \(shape=\(3, 0\)\) while a minimum of 1 is required."),
        (np.empty((3, 4, 0)), ValueError, r"0 feature\(s\) \(shape=\(3, 4, 0\)\)"),
        ([np.empty((2, 0))], ValueError, r"0 feature\(s\)"),
        (np.arange(5.0), ValueError, "1-D array.*ambiguous.*Reshape your data"),
        (pd.Series(np.arange(5.0)), ValueError, "1-D array.*Reshape your data"),
        ([1.0, 2.0, 3.0], ValueError,
         "Sequence 0 of X is a scalar, not a sequence.*Reshape your data"),
        (np.array([[1 + 2j, 3.0]]), ValueError, "Complex data not supported"),
        ([np.array([1 + 2j, 3.0])], ValueError, "Complex data not supported"),
        (np.ones((2, 2, 2, 2)), ValueError, "X has 4 dimensions"),
        ([np.ones(3), np.ones((2, 2, 2))], ValueError,
         "Sequence 1 of X has 3 dimensions"),
        ([np.ones((3, 2)), np.ones((2, 3))], ValueError,
         "Sequence 1 of X has 3 features per step.*sequence 0 has 2"),
        ([np.ones(3), np.ones((2, 3))], ValueError,
         "Sequence 1 of X has 3 features per step.*sequence 0 has 1"),
        (["a cat", "a dog"], TypeError, "Sequence 0 of X is a string.*TextOneHotEncoder"),
        ("a cat", TypeError, "single string"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "strings.*TextOneHotEncoder"),
        (np.array(["a", "b"]), TypeError, "strings"),
        ([np.array(["a", "b"])], TypeError, "Sequence 0 of X holds strings"),
        # numpy turns None into NaN in object -> float conversions (as check_array)
        ([[1.0, None, 3.0], [2.0]], ValueError, r"NaN \(sequence 0, step 1\)"),
        ([[1.0, {"a": 1}], [2.0]], TypeError, "Sequence 0 of X holds non-numeric"),
        ([pd.DataFrame({"a": ["x", "y"]})], TypeError, "Sequence 0 of X holds non-numeric"),
        ([[[1, 2], [3]]], ValueError, "Sequence 0 of X cannot be read"),
        (sp.csr_matrix(np.eye(3)), TypeError, "Sparse data"),
        ([np.ones((2, 3)), sp.csr_matrix(np.eye(3))], TypeError,
         r"Sequence 1 of X is a sparse csr_matrix.*toarray"),
        (None, TypeError, "expects a list of sequences"),
        (42, TypeError, "expects a list of sequences"),
        ([np.ones(2), np.array(["2020-01-01"], dtype="datetime64[D]")], TypeError,
         "Sequence 1 of X has dtype datetime64"),
    ],
)
def test_errors(X, exc, match):
    with pytest.raises(exc, match=match):
        validate_sequences(Est(), X, reset=True)
    est = Est()  # same errors at predict
    validate_sequences(est, [np.ones(2)], reset=True)
    with pytest.raises((ValueError, TypeError)):
        validate_sequences(est, X, reset=False)


def test_object_table_with_dict_raises_sklearn_type_error():
    # sklearn's check_dtype_object
    X = RNG.uniform(size=(6, 4)).astype(object)
    validate_sequences(Est(), X, reset=True)
    X[0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match="argument must be .* string.* number"):
        validate_sequences(Est(), X, reset=True)
    with pytest.raises(TypeError, match="argument must be .* string.* number"):
        validate_sequences(Est(), [np.array([1.0, {"foo": "bar"}], dtype=object)],
                           reset=True)


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "infinity"),
                                       (-np.inf, "infinity")])
def test_nan_inf_name_the_sequence(bad, kind):
    ragged = [s.copy() for s in RAGGED2]
    ragged[2][1, 1] = bad
    with pytest.raises(ValueError, match=f"{kind} \\(sequence 2, step 1\\)"):
        validate_sequences(Est(), ragged, reset=True)
    table = CUBE[:, :, 0].copy()
    table[3, 4] = bad
    with pytest.raises(ValueError, match=f"{kind} \\(sequence 3, step 4\\)"):
        validate_sequences(Est(), table, reset=True)
    cube = CUBE.astype(np.float32)
    cube[1, 0, 1] = bad
    cube[2, 0, 0] = bad
    with pytest.raises(ValueError, match=f"{kind} \\(sequence 1, step 0\\); 2 sequences"):
        validate_sequences(Est(), cube, reset=True)
    # sklearn's check_estimators_nan_inf matches "inf" or "NaN"
    est = Est()
    validate_sequences(est, CUBE[:, :, 0], reset=True)
    with pytest.raises(ValueError, match="inf|NaN"):
        validate_sequences(est, table, reset=False)


def test_large_finite_values_are_not_infinite():
    big = np.full((3, 2), np.finfo(np.float32).max, dtype=np.float32)
    seqs = fit([big, big])[1]  # the fast-path sum overflows; values are finite
    assert np.isfinite(seqs.values).all()


def test_dataframes_with_different_columns():
    a = pd.DataFrame(np.ones((2, 2)), columns=["x", "y"])
    b = pd.DataFrame(np.ones((3, 2)), columns=["y", "x"])
    with pytest.raises(ValueError, match="different columns: sequence 1"):
        fit([a, b])


# -- reset bookkeeping ------------------------------------------------------
def test_reset_deletes_stale_feature_names():
    est = Est()
    validate_sequences(est, pd.DataFrame(CUBE[:, :, 0], columns=list("abcde")), reset=True)
    assert hasattr(est, "feature_names_in_")
    validate_sequences(est, CUBE[:, :, 0], reset=True)
    assert not hasattr(est, "feature_names_in_")
    validate_sequences(est, [pd.DataFrame(s, columns=["u", "v"]) for s in RAGGED2], reset=True)
    assert list(est.feature_names_in_) == ["u", "v"]
    validate_sequences(est, CUBE, reset=True)
    assert not hasattr(est, "feature_names_in_")
    validate_sequences(est, [pd.DataFrame(s, columns=["u", "v"]) for s in RAGGED2], reset=True)
    validate_sequences(est, TokenSequences([1], [0, 1], 3), reset=True)
    assert not hasattr(est, "feature_names_in_")
    assert est._input_kind == "tokens" and est.n_features_in_ == 3


def test_reset_false_does_not_change_attributes():
    est = Est()
    validate_sequences(est, RAGGED2, reset=True)
    state = dict(vars(est))
    validate_sequences(est, CUBE, reset=False)
    assert vars(est).keys() == state.keys()
    assert all(vars(est)[k] == v for k, v in state.items())


def test_failed_reset_leaves_estimator_untouched():
    est = Est()
    validate_sequences(est, RAGGED2, reset=True)
    with pytest.raises(ValueError):
        validate_sequences(est, [np.array([np.nan])], reset=True)
    assert est.n_features_in_ == 2 and est._input_kind == "sequences"


# -- predict-time compatibility ---------------------------------------------
def test_predict_tokens_vs_dense():
    tok = TokenSequences([1, 2], [0, 1, 2], 4)
    est = Est()
    validate_sequences(est, tok, reset=True)
    with pytest.raises(ValueError, match="fitted on token sequences.*dense"):
        validate_sequences(est, RAGGED1, reset=False)
    with pytest.raises(ValueError, match="vocabulary of 5 tokens.*vocabulary of 4"):
        validate_sequences(est, TokenSequences([1, 2], [0, 1, 2], 5), reset=False)
    assert validate_sequences(est, TokenSequences([3], [0, 1], 4), reset=False).is_tokens
    est = Est()
    validate_sequences(est, RAGGED1, reset=True)
    with pytest.raises(ValueError, match="fitted on dense numeric sequences.*token"):
        validate_sequences(est, tok, reset=False)


def test_predict_table_width_checked_only_after_table_fit():
    table = CUBE[:, :, 0]
    est = Est()
    validate_sequences(est, table[:, :4], reset=True)
    msg = "X has 5 features, but Est is expecting 4 features as input."
    with pytest.raises(ValueError, match=msg):
        validate_sequences(est, table, reset=False)
    with pytest.raises(ValueError, match="X has 1 features, but Est is expecting 4"):
        validate_sequences(est, table[:, [1]], reset=False)
    validate_sequences(est, table[:, :4], reset=False)
    # ragged / 3-D input of one feature per step has any length
    validate_sequences(est, RAGGED1, reset=False)
    validate_sequences(est, CUBE[:, :, :1], reset=False)
    with pytest.raises(ValueError, match="X has 2 features per step.*2-D table of univariate"):
        validate_sequences(est, CUBE, reset=False)

    # fitted on univariate sequences: a table of any width is read as sequences
    est = Est()
    validate_sequences(est, RAGGED1, reset=True)
    for width in (1, 3, 5):
        seqs = validate_sequences(est, table[:, :width], reset=False)
        assert seqs.n_features == 1
    # fitted on F=2: a table (F=1) is an error
    est = Est()
    validate_sequences(est, CUBE, reset=True)
    expected = "2-D table of univariate.*fitted on sequences with 2 features"
    with pytest.raises(ValueError, match=expected):
        validate_sequences(est, table, reset=False)


def test_predict_features_per_step():
    est = Est()
    validate_sequences(est, CUBE, reset=True)
    seqs = validate_sequences(est, CUBE[:, :2], reset=False)  # any T for 3-D
    assert seqs.values.shape == (8, 2)
    validate_sequences(est, RAGGED2, reset=False)
    fitted = "but Est was fitted on sequences with 2"
    with pytest.raises(ValueError, match="X has 3 features per step, " + fitted):
        validate_sequences(est, np.ones((2, 4, 3)), reset=False)
    with pytest.raises(ValueError, match="X has 1 features per step, " + fitted):
        validate_sequences(est, RAGGED1, reset=False)


def test_predict_table_feature_names_sklearn_style():
    cols = np.array([f"col_{i}" for i in range(5)], dtype=object)
    df = pd.DataFrame(CUBE[:, :, 0], columns=cols)
    est = Est()
    validate_sequences(est, df, reset=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_sequences(est, df, reset=False)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        validate_sequences(est, CUBE[:, :, 0], reset=False)
    base = "The feature names should match those that were passed during fit.\n"
    with pytest.raises(ValueError, match=base + "Feature names must be in the same order"):
        validate_sequences(est, pd.DataFrame(df.to_numpy(), columns=cols[::-1]), reset=False)
    # names are checked before the width, as in sklearn
    with pytest.raises(ValueError, match=base + "Feature names seen at fit time, yet now missing"):
        validate_sequences(est, df.iloc[:, :3], reset=False)
    est = Est()
    validate_sequences(est, CUBE[:, :, 0], reset=True)
    with pytest.warns(UserWarning, match="X has feature names, but Est was fitted without"):
        validate_sequences(est, df, reset=False)


def test_predict_step_feature_names():
    names = ["speed", "angle"]
    est = Est()
    validate_sequences(est, [pd.DataFrame(s, columns=names) for s in RAGGED2], reset=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_sequences(est, [pd.DataFrame(s, columns=names) for s in RAGGED2], reset=False)
    with pytest.raises(ValueError, match="(?s)column names differ.*The feature names should match"
                       ".*Feature names must be in the same order"):
        validate_sequences(est, [pd.DataFrame(s, columns=names[::-1]) for s in RAGGED2],
                           reset=False)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        validate_sequences(est, RAGGED2, reset=False)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        validate_sequences(est, CUBE, reset=False)


def test_predict_without_fit_state_skips_checks():
    seqs = validate_sequences(Est(), CUBE, reset=False)
    assert seqs.n_features == 2


# -- targets ----------------------------------------------------------------
def test_step_targets_alignment():
    seqs = fit(RAGGED2)[1]  # lengths 3, 1, 4
    y = [[0, 1, 2], [3], np.array([4, 5, 6, 7])]
    flat = validate_step_targets(y, seqs)
    np.testing.assert_array_equal(flat, np.arange(8))
    assert flat.dtype.kind == "i" and flat.shape == (seqs.values.shape[0],)
    for yy in (tuple(y), pd.Series(y), _object_array(y),
               [pd.Series(v) for v in y]):
        np.testing.assert_array_equal(validate_step_targets(yy, seqs), np.arange(8))
    strings = [["a", "b", "c"], ["d"], ["e", "f", "g", "h"]]
    flat = validate_step_targets(strings, seqs)
    assert flat.dtype.kind == "U"  # as np.asarray and LabelEncoder keep str labels
    assert list(flat) == list("abcdefgh")
    # str arrays of other widths widen; strings held as objects stay objects
    assert validate_step_targets([["a", "bb", "c"], ["dddd"], list("efgh")], seqs).dtype == "<U4"
    as_series = validate_step_targets([pd.Series(v, dtype=object) for v in strings], seqs)
    assert as_series.dtype == object and list(as_series) == list("abcdefgh")
    mixed = [[1, 2, 3], ["x"], [1.5, 2, 3, 4]]
    flat = validate_step_targets(mixed, seqs)
    assert flat.dtype == object
    assert validate_step_targets([[0.5, 1, 2], [3], [4, 5, 6, 7]], seqs).dtype == np.float64
    assert validate_step_targets([[True, False, True], [1], [0, 1, 0, 1]], seqs).dtype.kind == "i"
    # labels are not aliased
    arr = np.arange(8)
    flat = validate_step_targets([arr[:3], arr[3:4], arr[4:]], seqs)
    assert not np.shares_memory(flat, arr)


def test_step_targets_2d_array_rows():
    seqs = fit(CUBE)[1]  # 4 sequences of 5 steps
    y = (CUBE[:, :, 0] > 0).astype(int)
    flat = validate_step_targets(y, seqs)
    np.testing.assert_array_equal(flat, y.ravel())
    assert flat.dtype == y.dtype and not np.shares_memory(flat, y)
    np.testing.assert_array_equal(validate_step_targets(pd.DataFrame(y), seqs), y.ravel())
    np.testing.assert_array_equal(validate_step_targets(list(y), seqs), y.ravel())
    flat = validate_step_targets(np.where(y, "hi", "lo"), seqs)
    assert flat.dtype == "<U2" and set(flat) == {"hi", "lo"}
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[4, 3\\]"):
        validate_step_targets(y[:3], seqs)
    bad = y.astype(float)
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="y\\[2\\] contains NaN"):
        validate_step_targets(bad, seqs)


def test_step_targets_zero_length():
    seqs = fit([np.ones(2), [], np.ones(1)])[1]
    flat = validate_step_targets([["a", "b"], [], ["c"]], seqs)
    assert flat.dtype.kind == "U" and list(flat) == ["a", "b", "c"]
    # an empty label list does not turn integer labels into floats
    flat = validate_step_targets([[1, 2], [], [3]], seqs)
    assert flat.dtype.kind == "i"
    parts = split_steps(flat, seqs.offsets)
    assert [p.tolist() for p in parts] == [[1, 2], [], [3]]


@pytest.mark.parametrize(
    "y, exc, match",
    [
        ([[0, 1, 2], [3]], ValueError,
         r"inconsistent numbers of samples: \[3, 2\]"),
        ([[0, 1, 2], [3, 4], [4, 5, 6, 7]], ValueError,
         "y\\[1\\] has 2 labels but X sequence 1 has 1 steps"),
        ([[0, 1, 2], [3], [4.0, np.nan, 6, 7]], ValueError, "y\\[2\\] contains NaN"),
        ([[0, 1, 2], ["a"], ["b", None, "c", "d"]], ValueError, "y\\[2\\] contains missing"),
        # rows of a 2-D y are label sequences: lengths must match
        (np.zeros((3, 4)), ValueError, "y\\[0\\] has 4 labels but X sequence 0 has 3 steps"),
        (pd.DataFrame(np.zeros((3, 3))), ValueError, "y\\[1\\] has 3 labels but X sequence 1"),
        (np.zeros((3, 4, 2)), ValueError, "3-D array of shape \\(3, 4, 2\\)"),
        (np.array([0, 1, 0]), ValueError, "1-D array of 3 labels.*one\\s+label per step"),
        (pd.Series([0, 1, 0]), ValueError, "1-D array of 3 labels"),
        ([0, 1, 0], ValueError, "y\\[0\\] is the single label 0"),
        (["abc", "d", "efgh"], ValueError, "y\\[0\\] is the single label 'abc'"),
        ([np.zeros((3, 2)), [1], [1, 2, 3, 4]], ValueError,
         "y\\[0\\] must be a 1-D sequence of labels.*shape \\(3, 2\\)"),
        (5, TypeError, "list of label sequences"),
        ("abc", TypeError, "list of label sequences"),
    ],
)
def test_step_targets_errors(y, exc, match):
    seqs = fit(RAGGED2)[1]
    with pytest.raises(exc, match=match):
        validate_step_targets(y, seqs)


def test_check_n_samples():
    seqs = fit([np.ones(2)] * 10)[1]
    check_n_samples(seqs, np.zeros(10))
    check_n_samples(seqs, [0] * 10)
    check_n_samples(seqs, np.zeros((10, 3)))
    check_n_samples(seqs, pd.Series(np.zeros(10)))
    msg = r"Found input variables with inconsistent numbers of samples: \[10, 9\]"
    with pytest.raises(ValueError, match=msg):
        check_n_samples(seqs, np.zeros(9))
    with pytest.raises(ValueError, match=msg):
        check_n_samples(seqs, pd.DataFrame(np.zeros((9, 2))))
    with pytest.raises(TypeError, match="one entry per sequence"):
        check_n_samples(seqs, 3.0)
    with pytest.raises(TypeError, match="one entry per sequence"):
        check_n_samples(seqs, np.float64(3.0))


# -- split_steps ------------------------------------------------------------
def test_split_steps_round_trip():
    X = [RAGGED2[0], np.empty((0, 2)), RAGGED2[1], RAGGED2[2]]
    seqs = fit(X)[1]
    parts = split_steps(seqs.values, seqs.offsets)
    assert len(parts) == 4
    for part, x in zip(parts, X):
        np.testing.assert_array_equal(part, x)
    assert parts[1].shape == (0, 2)
    # views into flat (documented)
    assert all(np.shares_memory(p, seqs.values) for p in parts if p.size)
    # 1-D per-step outputs
    flat = np.arange(seqs.values.shape[0])
    assert [p.tolist() for p in split_steps(flat, seqs.offsets)] == [[0, 1, 2], [], [3],
                                                                     [4, 5, 6, 7]]


def test_ragged_containers_are_linear_not_per_element_python():
    # A big ragged set is handled in one pass; a big 3-D array is vectorised.
    X = [np.ones((5, 3))] * 20000
    seqs = fit(X)[1]
    assert seqs.values.shape == (100000, 3)
    seqs = fit(np.ones((20000, 50, 3)))[1]
    assert seqs.values.shape == (1000000, 3)


# -- regression checks carried over from the first version of this file --------
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
        [list(c[:, 0]) for c in cube],
        np.array([c[:, 0] for c in cube] + [None], dtype=object)[:-1],
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


def test_dtypes_basic():
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


def test_tokens_fit_and_predict_checks():
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
        ([np.ones(2), np.array([1.0, np.inf, 2.0])], ValueError,
         r"infinity \(sequence 1, step 1\)"),
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
