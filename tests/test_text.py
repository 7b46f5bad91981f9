"""Tests of TextOneHotEncoder (skrnn/_text.py)."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import KFold, train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skrnn import TextOneHotEncoder
from skrnn._tokens import TokenSequences

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Café crème: the DOG sleeps; the fox doesn't!",
    "",
    "a b c",  # only one-letter words: no token with the default pattern
    "Naïve résumé of the quick fox, the end",
]


def _ids(X):
    return [seq.tolist() for seq in X]


# -- tokenisation matches CountVectorizer -----------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lowercase": False},
        {"strip_accents": "ascii"},
        {"strip_accents": "unicode", "lowercase": False},
        {"strip_accents": lambda s: s.replace("é", "e")},
        {"token_pattern": r"\S+"},
        {"token_pattern": r"(?u)\b(\w)\w*"},  # one capturing group
        {"tokenizer": str.split},
        {"tokenizer": lambda s: re.findall(r"[a-z]+", s), "lowercase": False},
        {"preprocessor": lambda s: s.upper()},
    ],
)
@pytest.mark.filterwarnings("ignore:The parameter 'token_pattern' will not be used")
def test_tokens_match_countvectorizer_analyzer(params):
    analyze = CountVectorizer(**params).build_analyzer()
    expected = [analyze(doc) for doc in CORPUS]
    encoder = TextOneHotEncoder(max_features=None, **params)
    X = encoder.fit_transform(CORPUS)
    # No token is dropped, so the round trip gives the analyzer's tokens back,
    # in order, one step per token.
    assert encoder.inverse_transform(X) == expected
    assert X.lengths.tolist() == [len(tokens) for tokens in expected]
    reference = CountVectorizer(**params).fit(CORPUS)
    assert set(encoder.vocabulary_) == set(reference.vocabulary_)


# -- vocabulary --------------------------------------------------------------
def test_vocabulary_order_by_count_then_alphabetical():
    docs = ["bb aa cc bb", "dd cc bb", "ee"]
    encoder = TextOneHotEncoder().fit(docs)
    # bb: 3, cc: 2, then aa, dd, ee (1 each) alphabetically.
    assert encoder.vocabulary_ == {"bb": 1, "cc": 2, "aa": 3, "dd": 4, "ee": 5}
    names = encoder.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == ["<unk>", "bb", "cc", "aa", "dd", "ee"]
    # Deterministic whatever the document order.
    again = TextOneHotEncoder().fit(docs[::-1])
    assert again.vocabulary_ == encoder.vocabulary_


def test_ties_are_alphabetical_by_code_point():
    encoder = TextOneHotEncoder(lowercase=False).fit(["zz Zz aa AA éé"])
    assert encoder.get_feature_names_out().tolist() == [
        "<unk>", "AA", "Zz", "aa", "zz", "éé"
    ]


def test_max_features_caps_real_tokens():
    docs = ["aa aa aa bb bb cc dd", "bb bb cc ee"]
    encoder = TextOneHotEncoder(max_features=2)
    X = encoder.fit_transform(docs)
    assert encoder.vocabulary_ == {"bb": 1, "aa": 2}
    assert X.shape == (2, 3)
    assert len(encoder.get_feature_names_out()) == X.shape[1]
    # Dropped tokens map to the OOV id, one step each.
    assert _ids(X) == [[2, 2, 2, 1, 1, 0, 0], [1, 1, 0, 0]]
    # Ties at the cut are broken alphabetically.
    encoder = TextOneHotEncoder(max_features=3).fit(["dd cc bb aa", "aa"])
    assert encoder.vocabulary_ == {"aa": 1, "bb": 2, "cc": 3}


@pytest.mark.parametrize(
    "min_df, max_df",
    [(2, 1.0), (0.5, 1.0), (1, 2), (1, 0.5), (2, 3), (0.25, 0.75), (0.0, 1)],
)
def test_min_df_max_df_like_countvectorizer(min_df, max_df):
    docs = ["aa bb cc", "aa bb", "aa dd", "aa bb ee ee ee"]
    encoder = TextOneHotEncoder(min_df=min_df, max_df=max_df, max_features=None)
    X = encoder.fit_transform(docs)
    cv = CountVectorizer(min_df=min_df, max_df=max_df).fit(docs)
    assert set(encoder.vocabulary_) == set(cv.vocabulary_)
    n_tokens = len(cv.vocabulary_)
    assert sorted(encoder.vocabulary_.values()) == list(range(1, n_tokens + 1))
    # Tokens pruned at fit become OOV but keep their step.
    assert X.lengths.tolist() == [3, 2, 2, 5]
    for doc, ids in zip(docs, X):
        assert ids.tolist() == [encoder.vocabulary_.get(t, 0) for t in doc.split()]


def test_pruning_examples():
    docs = ["aa bb cc", "aa bb", "aa dd"]
    assert set(TextOneHotEncoder(min_df=2).fit(docs).vocabulary_) == {"aa", "bb"}
    assert set(TextOneHotEncoder(max_df=2).fit(docs).vocabulary_) == {"bb", "cc", "dd"}
    vocabulary = TextOneHotEncoder(max_df=0.7).fit(docs).vocabulary_
    assert set(vocabulary) == {"bb", "cc", "dd"}
    assert set(TextOneHotEncoder(min_df=0.6).fit(docs).vocabulary_) == {"aa", "bb"}


# -- transform ---------------------------------------------------------------
def test_oov_at_transform_including_tokens_dropped_at_fit():
    encoder = TextOneHotEncoder(min_df=2).fit(["aa bb rare", "aa bb"])
    assert encoder.vocabulary_ == {"aa": 1, "bb": 2}
    X = encoder.transform(["rare aa unseen bb", "unseen"])
    assert _ids(X) == [[0, 1, 0, 2], [0]]
    assert encoder.inverse_transform(X) == [
        ["<unk>", "aa", "<unk>", "bb"], ["<unk>"]
    ]


def test_custom_oov_token_and_oov_marker_in_data():
    docs = [["the", "<unk>", "cat"], ["<UNK>", "cat"]]
    encoder = TextOneHotEncoder().fit(docs)
    # "<unk>" (also after lowercasing "<UNK>") is the OOV id, not a vocabulary entry.
    assert "<unk>" not in encoder.vocabulary_
    assert _ids(encoder.transform(docs)) == [[2, 0, 1], [0, 1]]
    named = TextOneHotEncoder(oov_token="[OOV]").fit(["aa bb"])
    assert named.get_feature_names_out()[0] == "[OOV]"
    assert named.inverse_transform(named.transform(["aa zz"])) == [["aa", "[OOV]"]]


def test_empty_documents_give_zero_length_sequences():
    encoder = TextOneHotEncoder()
    X = encoder.fit_transform(["", "aa bb", "!!! ?", ""])
    assert X.lengths.tolist() == [0, 2, 0, 0]
    assert encoder.transform([""]).lengths.tolist() == [0]
    Y = TextOneHotEncoder().fit_transform([[], ["aa"], ()])
    assert Y.lengths.tolist() == [0, 1, 0]
    assert encoder.inverse_transform(X) == [[], ["aa", "bb"], [], []]


def test_fit_transform_equals_fit_then_transform_and_tokenises_once():
    calls = []

    def tokenizer(doc):
        calls.append(doc)
        return doc.split()

    encoder = TextOneHotEncoder(tokenizer=tokenizer, max_features=3, min_df=1)
    X = encoder.fit_transform(CORPUS)
    assert len(calls) == len(CORPUS)
    Y = clone(encoder).fit(CORPUS).transform(CORPUS)
    assert X == Y


def test_output_container_and_dtype():
    X = TextOneHotEncoder().fit_transform(CORPUS)
    assert isinstance(X, TokenSequences)
    assert X.token_ids.dtype == np.int64 and X.offsets.dtype == np.int64
    assert X.dtype == np.float64
    X32 = TextOneHotEncoder(dtype=np.float32).fit(CORPUS).transform(CORPUS)
    assert X32.dtype == np.float32


# -- pre-tokenised input -----------------------------------------------------
def test_pretokenised_one_id_per_token():
    docs = [["New York", "is", "a", "city", "."], ("A", "city", "!"), np.array(["x"])]
    encoder = TextOneHotEncoder()
    X = encoder.fit_transform(docs)
    # No re-tokenisation: multi-word, one-letter and punctuation tokens stay.
    assert X.lengths.tolist() == [5, 3, 1]
    assert encoder.inverse_transform(X) == [
        ["new york", "is", "a", "city", "."], ["a", "city", "!"], ["x"]
    ]
    # The tokenizer is not used, the preprocessor is.
    custom = TextOneHotEncoder(
        tokenizer=lambda s: pytest.fail("tokenizer called"),
        preprocessor=lambda t: t.strip("!."),
    )
    assert custom.fit(docs).inverse_transform(custom.transform(docs))[1] == [
        "A", "city", ""
    ]
    accents = TextOneHotEncoder(strip_accents="ascii").fit([["Café", "Naïve"]])
    assert set(accents.vocabulary_) == {"cafe", "naive"}


def test_pretokenised_series_of_lists():
    docs = pd.Series([["aa", "bb"], ["bb"], []])
    X = TextOneHotEncoder().fit_transform(docs)
    assert _ids(X) == [[2, 1], [1], []]


def test_inverse_transform_round_trip():
    encoder = TextOneHotEncoder(max_features=None)
    X = encoder.fit_transform(CORPUS)
    tokens = encoder.inverse_transform(X)
    assert all(isinstance(doc, list) for doc in tokens)
    pretok = TextOneHotEncoder().fit(tokens)
    assert pretok.inverse_transform(pretok.transform(tokens)) == tokens
    # Indexed parts too.
    assert encoder.inverse_transform(X[[4, 0]]) == [tokens[4], tokens[0]]


def test_get_feature_names_out_matches_width():
    for params in ({}, {"max_features": 3}, {"min_df": 2}):
        encoder = TextOneHotEncoder(**params)
        X = encoder.fit_transform(CORPUS)
        names = encoder.get_feature_names_out()
        assert len(names) == X.shape[1] == len(encoder.vocabulary_) + 1
        assert names[0] == "<unk>"
        assert [names[i] for i in range(1, len(names))] == sorted(
            encoder.vocabulary_, key=encoder.vocabulary_.get
        )


# -- input containers --------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        list,
        tuple,
        lambda d: (doc for doc in d),
        pd.Series,
        lambda d: pd.Series(d, dtype="string"),
        lambda d: pd.DataFrame({"text": d}),
        lambda d: np.array(d, dtype=object),
        lambda d: np.array(d),
        lambda d: np.array(d, dtype=object).reshape(-1, 1),
    ],
)
def test_input_containers(make):
    expected = TextOneHotEncoder().fit_transform(CORPUS)
    encoder = TextOneHotEncoder()
    assert encoder.fit_transform(make(CORPUS)) == expected
    assert encoder.transform(make(CORPUS)) == expected


def test_column_transformer_returns_token_sequences():
    df = pd.DataFrame({"text": CORPUS, "other": np.arange(len(CORPUS))})
    ct = ColumnTransformer([("enc", TextOneHotEncoder(), "text")])
    X = ct.fit_transform(df)
    assert isinstance(X, TokenSequences)
    assert X == TextOneHotEncoder().fit_transform(CORPUS)
    assert ct.transform(df) == X
    assert len(ct.get_feature_names_out()) == X.shape[1]
    # A list selecting the column gives a one-column DataFrame.
    ct = ColumnTransformer([("enc", TextOneHotEncoder(), ["text"])])
    assert ct.fit_transform(df) == X


def test_indexing_and_splitting():
    encoder = TextOneHotEncoder()
    X = encoder.fit_transform(CORPUS)
    rows = np.array([4, 0, 2])
    part = _safe_indexing(X, rows)
    assert isinstance(part, TokenSequences)
    assert part == encoder.transform([CORPUS[i] for i in rows])
    mask = np.array([True, False, True, False, True])
    assert _safe_indexing(X, mask) == encoder.transform(np.array(CORPUS)[mask])

    y = np.arange(len(CORPUS))
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=2, random_state=0
    )
    assert isinstance(X_train, TokenSequences) and isinstance(X_test, TokenSequences)
    assert X_train == encoder.transform([CORPUS[i] for i in y_train])
    assert X_test == encoder.transform([CORPUS[i] for i in y_test])
    for _, test in KFold(n_splits=2).split(X):
        assert _safe_indexing(X, test) == encoder.transform([CORPUS[i] for i in test])


def test_pickle_round_trip():
    encoder = TextOneHotEncoder(max_features=5, dtype=np.float32)
    X = encoder.fit_transform(CORPUS)
    encoder2 = pickle.loads(pickle.dumps(encoder))
    assert encoder2.vocabulary_ == encoder.vocabulary_
    assert encoder2.transform(CORPUS) == X
    X2 = pickle.loads(pickle.dumps(X))
    assert X2 == X and X2.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.dtype(np.float32), "float32"])
def test_dtype_as_type_dtype_or_name(dtype):
    X = TextOneHotEncoder(dtype=dtype).fit_transform(CORPUS)
    assert X.dtype == np.float32
    with pytest.raises(ValueError, match="dtype"):
        TextOneHotEncoder(dtype="int64").fit(CORPUS)


def test_clone_and_get_params():
    encoder = TextOneHotEncoder(max_features=7, min_df=2, oov_token="?")
    params = encoder.get_params()
    assert params["max_features"] == 7 and params["oov_token"] == "?"
    assert params["dtype"] is np.float64
    fitted = encoder.set_params(min_df=1).fit(CORPUS)
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params()
    assert not hasattr(cloned, "vocabulary_")


def test_tags_and_default_output_only():
    tags = TextOneHotEncoder().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array
    # The output is never a DataFrame: set_output takes "default" only, and a
    # global pandas output config does not break transform.
    encoder = TextOneHotEncoder()
    assert encoder.set_output(transform="default") is encoder
    assert encoder.set_output() is encoder
    for container in ("pandas", "polars"):
        with pytest.raises(ValueError, match=f"cannot output '{container}'.*no DataFrame form"):
            encoder.set_output(transform=container)
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(TextOneHotEncoder().fit_transform(CORPUS), TokenSequences)


def test_column_transformer_under_a_global_pandas_output():
    # The ColumnTransformer wraps its output in a DataFrame under this
    # config; set back to default output (which reaches the encoder through
    # its set_output) it passes the token sequences on.
    df = pd.DataFrame({"text": CORPUS, "other": np.arange(len(CORPUS))})
    expected = TextOneHotEncoder().fit_transform(CORPUS)
    with sklearn.config_context(transform_output="pandas"):
        ct = ColumnTransformer([("enc", TextOneHotEncoder(), "text")])
        with pytest.raises(TypeError, match=r"set_output\(transform='default'\) on the Column"):
            ct.fit_transform(df)
        assert ct.set_output(transform="default").fit_transform(df) == expected


@pytest.mark.parametrize(
    "check",
    [
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
        check_parameters_default_constructible,
    ],
)
def test_sklearn_non_fitting_checks(check):
    check("TextOneHotEncoder", TextOneHotEncoder())


# -- errors ------------------------------------------------------------------
def test_not_fitted():
    encoder = TextOneHotEncoder()
    with pytest.raises(NotFittedError):
        encoder.transform(CORPUS)
    with pytest.raises(NotFittedError):
        encoder.inverse_transform(TokenSequences([], [0], 1))
    with pytest.raises(NotFittedError):
        encoder.get_feature_names_out()


@pytest.mark.parametrize("X", ["some text", np.array("some text")])
def test_string_instead_of_iterable(X):
    msg = "Iterable over raw text documents expected, string object received."
    with pytest.raises(ValueError, match=re.escape(msg)):
        TextOneHotEncoder().fit(X)
    encoder = TextOneHotEncoder().fit(CORPUS)
    with pytest.raises(ValueError, match=re.escape(msg)):
        encoder.transform(X)


@pytest.mark.parametrize(
    "X, match",
    [
        (["aa bb", 3], "position 1 is of type int"),
        ([3, "aa"], "position 0 is of type int"),
        (["aa", b"bb"], "position 1 is of type bytes"),
        ([b"aa"], "bytes; decode"),
        (["aa", ["bb"]], "position 1 is of type list; expected a str"),
        ([["aa"], "bb"], "position 1 is of type str; expected a list"),
        ([["aa", 1]], "Token 1 of document at position 0 is of type int"),
        ([["aa"], ["bb", ["cc"]]], "Token 1 of document at position 1 is of type list"),
        ([["aa"], np.array([["bb"]])], "position 1 is a 2-D numpy.ndarray"),
        (5, "iterable of documents"),
    ],
)
def test_non_string_items(X, match):
    with pytest.raises(TypeError, match=re.escape(match)):
        TextOneHotEncoder().fit(X)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_documents_suggest_fillna(missing):
    X = pd.Series(["aa bb", missing, "cc"], dtype=object)
    with pytest.raises(TypeError, match=r"position 1 is missing.*fillna\(''\)"):
        TextOneHotEncoder().fit(X)
    encoder = TextOneHotEncoder().fit(X.fillna(""))
    with pytest.raises(TypeError, match=r"position 1 is missing.*fillna"):
        encoder.transform(pd.DataFrame({"text": X}))
    with pytest.raises(TypeError, match=r"position 1 is missing.*empty token lists"):
        TextOneHotEncoder().fit([["aa"], missing])


def test_empty_corpus():
    for X in ([], pd.Series([], dtype=object), np.array([], dtype=object)):
        with pytest.raises(ValueError, match="empty corpus"):
            TextOneHotEncoder().fit(X)
    # transform of no documents is simply empty
    X = TextOneHotEncoder().fit(CORPUS).transform([])
    assert X.shape[0] == 0


def test_empty_vocabulary():
    with pytest.raises(ValueError, match="contain no tokens"):
        TextOneHotEncoder().fit(["", "a b", "!!"])
    with pytest.raises(ValueError, match="no token remains after pruning"):
        TextOneHotEncoder(min_df=2).fit(["aa bb", "cc dd"])
    with pytest.raises(ValueError, match="no token remains after pruning"):
        TextOneHotEncoder(max_df=0.5).fit(["aa bb", "aa bb", "aa bb"])


@pytest.mark.parametrize("min_df, max_df", [(3, 2), (0.8, 0.5), (3, 0.5)])
def test_max_df_below_min_df(min_df, max_df):
    with pytest.raises(ValueError, match="max_df.*fewer documents.*than min_df"):
        TextOneHotEncoder(min_df=min_df, max_df=max_df).fit(["aa", "aa", "aa", "bb"])


def test_dataframe_with_several_columns():
    df = pd.DataFrame({"text": ["aa"], "other": ["bb"]})
    with pytest.raises(ValueError, match="DataFrame with 2 columns"):
        TextOneHotEncoder().fit(df)
    with pytest.raises(ValueError, match=r"array of shape \(2, 2\)"):
        TextOneHotEncoder().fit(np.array([["aa", "bb"], ["cc", "dd"]]))


def test_input_kind_must_match_fit():
    raw = TextOneHotEncoder().fit(["aa bb"])
    with pytest.raises(ValueError, match="fitted on raw text.*pre-tokenised"):
        raw.transform([["aa", "bb"]])
    tokens = TextOneHotEncoder().fit([["aa", "bb"]])
    with pytest.raises(ValueError, match="fitted on pre-tokenised.*raw text"):
        tokens.transform(["aa bb"])


@pytest.mark.parametrize(
    "params",
    [
        {"max_features": 0},
        {"min_df": 1.5},
        {"max_df": -1},
        {"dtype": np.int64},
        {"dtype": "int64"},
        {"lowercase": "yes"},
        {"strip_accents": "latin"},
        {"oov_token": None},
        {"tokenizer": "split"},
    ],
)
def test_invalid_parameters(params):
    with pytest.raises(ValueError, match="parameter of TextOneHotEncoder"):
        TextOneHotEncoder(**params).fit(CORPUS)


def test_token_pattern_none_needs_tokenizer():
    with pytest.raises(ValueError, match="token_pattern=None requires a tokenizer"):
        TextOneHotEncoder(token_pattern=None).fit(CORPUS)
    encoder = TextOneHotEncoder(token_pattern=None, tokenizer=str.split).fit(CORPUS)
    assert "a" in encoder.vocabulary_
    # Pre-tokenised input needs no tokenizer.
    TextOneHotEncoder(token_pattern=None).fit([["aa"]])


def test_tokenizer_returning_non_strings():
    with pytest.raises(TypeError, match="token of type int"):
        TextOneHotEncoder(tokenizer=lambda s: [len(s)]).fit(["aa"])


def test_inverse_transform_errors():
    encoder = TextOneHotEncoder().fit(["aa bb"])
    with pytest.raises(TypeError, match="TokenSequences"):
        encoder.inverse_transform([[1, 2]])
    other = TextOneHotEncoder().fit(["aa bb cc"]).transform(["aa"])
    with pytest.raises(ValueError, match="4 token ids per step.*produces 3"):
        encoder.inverse_transform(other)
