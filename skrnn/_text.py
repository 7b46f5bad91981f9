"""TextOneHotEncoder: text -> sequences of one-hot token vectors (as token ids).

Tokenisation is delegated to ``CountVectorizer``'s public ``build_preprocessor``
and ``build_tokenizer``, so a document yields exactly the tokens a word
``CountVectorizer`` with the same settings would count, in reading order.  The
output is a :class:`~skrnn._tokens.TokenSequences`: token ids, flat, with
CSR-style offsets; the one-hot vectors are never materialised.
"""

from array import array
from collections import defaultdict
from numbers import Integral

import numpy as np

# ``_fit_context`` is private sklearn API, which STYLE.md keeps in ``_base.py``.
# The encoder does not derive from ``BaseRNN`` and importing ``_base`` would pull
# the whole network stack into a text transformer, so it is imported here too
# (the package already pins scikit-learn>=1.6 for it).
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils._param_validation import Interval, Options, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._persistence import VersionStampMixin
from ._tokens import TokenSequences

__all__ = ["TextOneHotEncoder"]

_STRING_RECEIVED = "Iterable over raw text documents expected, {} object received."


class _Memo(dict):
    """``dict`` computing and caching ``func(key)`` for keys it has not seen.

    Lookups of known keys stay in C (``map(memo.__getitem__, tokens)``), so a
    per-token conversion costs one Python call per *distinct* token.
    """

    def __init__(self, func):
        super().__init__()
        self._func = func

    def __missing__(self, key):
        value = self[key] = self._func(key)
        return value


class _ZeroDefault(dict):
    """Vocabulary lookup returning the OOV id 0 for unknown tokens (not stored)."""

    def __missing__(self, key):
        return 0


def _is_missing(doc):
    """Whether ``doc`` is a missing-value marker (None, NaN, pd.NA, NaT)."""
    if doc is None:
        return True
    try:
        import pandas as pd

        return pd.isna(doc) is True
    except (ImportError, TypeError, ValueError):  # pragma: no cover - defensive
        return False


def _is_token_document(doc):
    return isinstance(doc, (list, tuple)) or (
        isinstance(doc, np.ndarray) and doc.ndim == 1
    )


def _bad_document_error(position, doc, pretokenized):
    """TypeError naming the position and type of an invalid document."""
    expected = (
        "a list, tuple or 1-D array of str tokens (the documents are "
        "pre-tokenised)"
        if pretokenized
        else "a str (the documents are raw text)"
    )
    if _is_missing(doc):
        fix = (
            "Replace missing documents by empty token lists ([])"
            if pretokenized
            else "Fill missing text first, e.g. X.fillna('')"
        )
        return TypeError(
            f"Document at position {position} is missing ({doc!r}, of type "
            f"{type(doc).__name__}); expected {expected}. {fix}; such documents "
            "become zero-length sequences."
        )
    if isinstance(doc, np.ndarray):
        kind = f"a {doc.ndim}-D numpy.ndarray"
    else:
        kind = f"of type {type(doc).__name__}"
    return TypeError(
        f"Document at position {position} is {kind}; expected {expected}."
    )


def _raise_for_bad_token(position, doc):
    """Raise a TypeError naming the first non-str token of ``doc``, if any."""
    for j, token in enumerate(doc):
        if not isinstance(token, str):
            raise TypeError(
                f"Token {j} of document at position {position} is of type "
                f"{type(token).__name__} ({token!r}); pre-tokenised documents "
                "must contain str tokens only."
            )


def _as_document_list(X):
    """Return the documents of ``X`` as a list (one item per document)."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            _STRING_RECEIVED.format("string" if isinstance(X, str) else "bytes")
        )
    shape = getattr(X, "shape", None)
    if hasattr(X, "columns") and shape is not None and len(shape) == 2:
        # A DataFrame: take its only column.
        if shape[1] != 1:
            raise ValueError(
                f"X is a DataFrame with {shape[1]} columns; TextOneHotEncoder "
                "encodes a single text column. Select it (X['text']) or use a "
                "ColumnTransformer with the text column alone."
            )
        column = X.iloc[:, 0] if hasattr(X, "iloc") else X[X.columns[0]]
        return list(column)
    if isinstance(X, np.ndarray):
        if X.ndim == 0:
            if isinstance(X.item(), (str, bytes)):
                raise ValueError(_STRING_RECEIVED.format("string"))
            raise TypeError("X must be an iterable of documents, got a 0-D array.")
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"X is an array of shape {X.shape}; expected a 1-D array (or a "
                "single column) of raw text documents. Pass pre-tokenised "
                "documents as a list of token lists."
            )
        return X.tolist()
    if hasattr(X, "tolist") and shape is not None and len(shape) == 1:
        return X.tolist()  # pandas Series and similar
    try:
        return list(X)
    except TypeError:
        raise TypeError(
            "X must be an iterable of documents (str, or lists of str tokens); "
            f"got {type(X).__name__}."
        ) from None


class TextOneHotEncoder(TransformerMixin, VersionStampMixin, BaseEstimator,
                        auto_wrap_output_keys=None):
    """Encode text as sequences of one-hot token vectors, stored as token ids.

    Each document becomes a sequence with one step per token; step ``t`` is the
    one-hot vector of the ``t``-th token over ``len(vocabulary_) + 1`` slots
    (slot 0 is the unknown token).  Only the token ids are stored (a
    ``TokenSequences``), so memory does not grow with the vocabulary size.  The
    output is accepted by :class:`~skrnn.RNNClassifier`,
    :class:`~skrnn.RNNRegressor` and :class:`~skrnn.RNNSequenceTagger`, and
    survives scikit-learn's cross-validation indexing and pickling.

    Parameters
    ----------
    lowercase : bool, default=True
        Convert all characters to lowercase before tokenising.  Ignored when
        ``preprocessor`` is given.

    strip_accents : {'ascii', 'unicode'} or callable, default=None
        Remove accents and perform other character normalisation before
        tokenising, as in :class:`~sklearn.feature_extraction.text.CountVectorizer`.
        None does nothing.  Ignored when ``preprocessor`` is given.

    token_pattern : str or None, default=r"(?u)\\b\\w\\w+\\b"
        Regular expression denoting what constitutes a token of a raw document
        (by default, words of two or more alphanumeric characters; punctuation
        is dropped).  If it has one capturing group, the group is the token.
        Ignored when ``tokenizer`` is given or the input is pre-tokenised; None
        requires a ``tokenizer`` for raw documents.

    tokenizer : callable, default=None
        Override the string tokenisation step of raw documents; receives the
        preprocessed document and returns a sequence of str tokens.  Not used
        for pre-tokenised input.

    preprocessor : callable, default=None
        Override the preprocessing (lowercase, strip_accents) step.  It is
        applied to each raw document, or to each token of a pre-tokenised
        document.  It must be a pure function: with pre-tokenised input it is
        called once per distinct token.

    max_features : int or None, default=10000
        Maximum number of real tokens in the vocabulary: the most frequent
        tokens (by total count over the training corpus) are kept.  The unknown
        token slot comes on top, so the output width is at most
        ``max_features + 1``.  None keeps every token.

    min_df : float in [0.0, 1.0] or int, default=1
        Ignore tokens that occur in fewer documents than this.  A float is a
        proportion of documents, an int an absolute count, as in
        ``CountVectorizer``.

    max_df : float in [0.0, 1.0] or int, default=1.0
        Ignore tokens that occur in more documents than this (corpus-specific
        stop words).  A float is a proportion of documents, an int an absolute
        count.

    oov_token : str, default="<unk>"
        Name of the out-of-vocabulary token (id 0), used by
        :meth:`get_feature_names_out` and :meth:`inverse_transform`.  A token
        of the data equal to it (after preprocessing and tokenisation) maps to
        id 0 and never enters the vocabulary, so pre-tokenised corpora that
        already mark rare words with ``"<unk>"`` keep that meaning.  In raw
        text the default ``token_pattern`` reads ``"<unk>"`` as the word
        ``"unk"``; a pattern that keeps it whole, such as
        ``r"(?u)<unk>|\\b\\w\\w+\\b"``, keeps its meaning there too.

    dtype : {np.float64, np.float32}, default=np.float64
        Float dtype of the one-hot vectors; models fitted on the output compute
        in this dtype.  Also as ``np.dtype`` or by name (``"float32"``).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Mapping from token to its id, from 1 to ``len(vocabulary_)``.  Id 0 is
        the out-of-vocabulary token and is not in this dict.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Bag-of-words counts with
        the same tokenisation (order of tokens is lost).
    skrnn.RNNClassifier : Many-to-one classifier accepting the output.
    skrnn.RNNSequenceTagger : Many-to-many tagger; feed it pre-tokenised
        documents so that its labels stay aligned with the tokens.

    Notes
    -----
    **Vocabulary.** Tokens that pass the ``min_df`` / ``max_df`` document
    frequency bounds are ranked by decreasing total count in the training
    corpus, ties broken by the tokens' alphabetical (Unicode code point)
    order, and the first ``max_features`` are kept.  They get ids
    ``1, 2, ..., len(vocabulary_)`` in that order, so the ranking is
    deterministic and the most frequent token has id 1.

    **Unknown tokens.** Id 0 is reserved for out-of-vocabulary tokens and is
    named ``oov_token``.  Tokens never seen at fit *and* tokens seen at fit but
    dropped by ``max_features``, ``min_df`` or ``max_df`` all map to id 0, so a
    model learns one representation for every rare word.  The output width,
    ``shape[1]``, is therefore ``len(vocabulary_) + 1``, the length of
    :meth:`get_feature_names_out`.

    **Steps.** Every token of a document yields exactly one step, unknown or
    not, so per-token labels stay aligned.  A document without tokens (empty,
    or only punctuation with the default ``token_pattern``) yields a
    zero-length sequence; see the estimators for what they make of it.

    **Raw and pre-tokenised input.** Raw documents are preprocessed and
    tokenised exactly as by a word ``CountVectorizer`` with the same
    ``lowercase``, ``strip_accents``, ``token_pattern``, ``tokenizer`` and
    ``preprocessor``.  Pre-tokenised documents (lists of str) go through the
    preprocessor token by token but are not re-tokenised.  The kind of input
    is decided at fit and ``transform`` requires the same kind.  Bytes are not
    decoded: pass str.

    **Output.** The output is always a ``TokenSequences``, never a dense or
    pandas container: :meth:`set_output` takes ``transform="default"`` only,
    which lets a ``ColumnTransformer`` or ``Pipeline`` holding the encoder be
    set back to default output under ``sklearn.set_config(
    transform_output="pandas")``.  ``transform`` costs one dictionary lookup
    per token.

    Examples
    --------
    >>> from skrnn import TextOneHotEncoder
    >>> corpus = ["The cat sat.", "The dog sat on the mat!", ""]
    >>> encoder = TextOneHotEncoder(max_features=4)
    >>> X = encoder.fit_transform(corpus)
    >>> X.shape
    (3, 5)
    >>> encoder.get_feature_names_out().tolist()
    ['<unk>', 'the', 'sat', 'cat', 'dog']
    >>> [ids.tolist() for ids in X]
    [[1, 3, 2], [1, 4, 2, 0, 1, 0], []]
    >>> encoder.inverse_transform(X)[1]
    ['the', 'dog', 'sat', '<unk>', 'the', '<unk>']

    Pre-tokenised documents keep one step per token, punctuation included:

    >>> tagger_encoder = TextOneHotEncoder().fit([["The", "cat"], ["A", "dog", "."]])
    >>> [ids.tolist() for ids in tagger_encoder.transform([["the", "bird", "."]])]
    [[5, 0, 1]]
    """

    _parameter_constraints: dict = {
        "lowercase": ["boolean"],
        "strip_accents": [StrOptions({"ascii", "unicode"}), None, callable],
        "token_pattern": [str, None],
        "tokenizer": [callable, None],
        "preprocessor": [callable, None],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "min_df": [
            Interval(RealNotInt, 0, 1, closed="both"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_df": [
            Interval(RealNotInt, 0, 1, closed="both"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "oov_token": [str],
        "dtype": [
            Options(type, {np.float32, np.float64}),
            Options(np.dtype, {np.dtype(np.float32), np.dtype(np.float64)}),
            StrOptions({"float32", "float64"}),
        ],
    }

    def __init__(
        self,
        *,
        lowercase=True,
        strip_accents=None,
        token_pattern=r"(?u)\b\w\w+\b",
        tokenizer=None,
        preprocessor=None,
        max_features=10000,
        min_df=1,
        max_df=1.0,
        oov_token="<unk>",
        dtype=np.float64,
    ):
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.max_features = max_features
        self.min_df = min_df
        self.max_df = max_df
        self.oov_token = oov_token
        self.dtype = dtype

    # -- fitting -------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the vocabulary of the documents in X.

        Parameters
        ----------
        X : iterable of str, or iterable of sequences of str
            Raw text documents (list, tuple, pandas Series, 1-D array or
            one-column DataFrame of str) or pre-tokenised documents (each a
            list, tuple or 1-D array of str tokens).

        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted encoder.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Learn the vocabulary and return the token sequences of X.

        Equivalent to ``fit(X).transform(X)`` but tokenises X only once.

        Parameters
        ----------
        X : iterable of str, or iterable of sequences of str
            Raw text documents or pre-tokenised documents; see :meth:`fit`.

        y : None
            Ignored.

        Returns
        -------
        X_out : TokenSequences of shape (n_samples, n_vocabulary)
            One sequence of token ids per document.
        """
        remap, flat, offsets = self._fit(X)
        return TokenSequences(
            remap[flat], offsets, len(self.vocabulary_) + 1, self.dtype
        )

    def _fit(self, X):
        """Tokenise X once, set the fitted attributes.

        Returns the map from provisional ids (order of first appearance) to
        final ids, the provisional ids of all tokens and the offsets.
        """
        docs = _as_document_list(X)
        if not docs:
            raise ValueError(
                "Cannot fit TextOneHotEncoder on an empty corpus (0 documents)."
            )
        pretokenized = self._detect_kind(docs)
        # Provisional ids in order of first appearance (CountVectorizer's trick).
        provisional = defaultdict()
        provisional.default_factory = provisional.__len__
        flat, offsets = self._encode(docs, pretokenized, provisional.__getitem__)
        tokens = list(provisional)
        if not tokens:
            raise ValueError(
                "Empty vocabulary: the documents contain no tokens. Check "
                "token_pattern / tokenizer, or the documents themselves."
            )
        if not all(isinstance(token, str) for token in tokens):
            bad = next(t for t in tokens if not isinstance(t, str))
            raise TypeError(
                f"The tokenizer returned a token of type {type(bad).__name__} "
                f"({bad!r}); "
                "tokens must be str."
            )

        n_docs = offsets.shape[0] - 1
        n_provisional = len(tokens)
        counts = np.bincount(flat, minlength=n_provisional)
        # Document frequency: distinct (document, token) pairs per token.
        doc_of_token = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(offsets))
        # (np.unique hashes in numpy >= 2.3, ~15x slower than a sort here.)
        pairs = np.sort(doc_of_token * n_provisional + flat)
        first = np.ones(pairs.shape[0], dtype=bool)
        np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
        doc_freq = np.bincount(pairs[first] % n_provisional, minlength=n_provisional)

        max_doc_count = (
            self.max_df if isinstance(self.max_df, Integral) else self.max_df * n_docs
        )
        min_doc_count = (
            self.min_df if isinstance(self.min_df, Integral) else self.min_df * n_docs
        )
        if max_doc_count < min_doc_count:
            raise ValueError(
                f"max_df={self.max_df!r} corresponds to fewer documents "
                f"({max_doc_count:g}) than min_df={self.min_df!r} "
                f"({min_doc_count:g}) for {n_docs} documents."
            )
        keep = (doc_freq >= min_doc_count) & (doc_freq <= max_doc_count)
        oov_position = provisional.get(self.oov_token)
        if oov_position is not None:
            keep[oov_position] = False  # the data's own OOV marker stays id 0
        candidates = np.flatnonzero(keep)
        if candidates.size == 0:
            raise ValueError(
                f"Empty vocabulary: no token remains after pruning with "
                f"min_df={self.min_df!r} and max_df={self.max_df!r} "
                f"({n_provisional} distinct tokens in {n_docs} documents). Try "
                "a lower min_df or a higher max_df."
            )
        # Alphabetical first, then a stable sort by decreasing count.
        alphabetical = np.array(
            sorted(candidates.tolist(), key=tokens.__getitem__), dtype=np.int64
        )
        ranked = alphabetical[np.argsort(-counts[alphabetical], kind="stable")]
        if self.max_features is not None:
            ranked = ranked[: self.max_features]

        self.vocabulary_ = {
            tokens[j]: token_id for token_id, j in enumerate(ranked.tolist(), start=1)
        }
        self._pretokenized = pretokenized
        remap = np.zeros(n_provisional, dtype=np.int64)
        remap[ranked] = np.arange(1, ranked.shape[0] + 1, dtype=np.int64)
        return remap, flat, offsets

    # -- transforming --------------------------------------------------------
    def transform(self, X):
        """Encode documents as sequences of token ids.

        Parameters
        ----------
        X : iterable of str, or iterable of sequences of str
            Documents of the same kind (raw or pre-tokenised) as at fit.

        Returns
        -------
        X_out : TokenSequences of shape (n_samples, n_vocabulary)
            One sequence of token ids per document; out-of-vocabulary tokens
            have id 0.
        """
        check_is_fitted(self)
        docs = _as_document_list(X)
        if docs:
            pretokenized = self._detect_kind(docs)
            if pretokenized != self._pretokenized:
                fitted = "pre-tokenised documents" if self._pretokenized else "raw text"
                given = "pre-tokenised documents" if pretokenized else "raw text"
                raise ValueError(
                    f"This TextOneHotEncoder was fitted on {fitted} but "
                    f"transform received {given}; pass the same kind of input "
                    "as at fit."
                )
        table = _ZeroDefault(self.vocabulary_)
        flat, offsets = self._encode(docs, self._pretokenized, table.__getitem__)
        return TokenSequences(flat, offsets, len(self.vocabulary_) + 1, self.dtype)

    def inverse_transform(self, X):
        """Map token ids back to token strings.

        Parameters
        ----------
        X : TokenSequences of shape (n_samples, n_vocabulary)
            Output of :meth:`transform` (or an indexed part of it).

        Returns
        -------
        tokens : list of length n_samples of list of str
            The tokens of each document; out-of-vocabulary ids give
            ``oov_token``.
        """
        check_is_fitted(self)
        if not isinstance(X, TokenSequences):
            raise TypeError(
                "inverse_transform expects the TokenSequences returned by "
                f"transform; got {type(X).__name__}."
            )
        width = len(self.vocabulary_) + 1
        if X.n_vocabulary != width:
            raise ValueError(
                f"X has {X.n_vocabulary} token ids per step but this encoder "
                f"produces {width} (len(vocabulary_) + 1)."
            )
        flat = self.get_feature_names_out()[X.token_ids].tolist()
        bounds = X.offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def get_feature_names_out(self, input_features=None):
        """Get the token of each one-hot slot.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Not used, present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str objects of shape (n_vocabulary,)
            ``oov_token`` followed by the vocabulary in id order; its length is
            the output's ``shape[1]``.
        """
        check_is_fitted(self)
        names = np.empty(len(self.vocabulary_) + 1, dtype=object)
        names[0] = self.oov_token
        for token, token_id in self.vocabulary_.items():
            names[token_id] = token
        return names

    def set_output(self, *, transform=None):
        """Accept the default output container, the only one token sequences have.

        Parameters
        ----------
        transform : {"default"} or None, default=None
            ``"default"`` or None: the output stays a ``TokenSequences``.
            ``"pandas"`` and ``"polars"`` raise: ragged token sequences have
            no DataFrame form.

        Returns
        -------
        self : TextOneHotEncoder
            This encoder, unchanged.
        """
        if transform not in (None, "default"):
            raise ValueError(
                f"TextOneHotEncoder cannot output {transform!r} containers: its output "
                "is ragged token sequences (TokenSequences), which have no DataFrame "
                "form. Leave its output as 'default' and set the output of the other "
                "steps, e.g. set_output(transform='default') on the ColumnTransformer "
                "holding the encoder."
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # -- helpers -------------------------------------------------------------
    @staticmethod
    def _detect_kind(docs):
        """True if the documents are pre-tokenised, False if raw text."""
        first = docs[0]
        if isinstance(first, str):
            return False
        if _is_token_document(first):
            return True
        if isinstance(first, bytes):
            raise TypeError(
                "Document at position 0 is bytes; decode documents to str first."
            )
        raise _bad_document_error(0, first, pretokenized=False)

    def _encode(self, docs, pretokenized, token_id):
        """Flat int64 token ids and offsets of ``docs``.

        ``token_id`` maps a preprocessed token to its id (a C-level
        ``__getitem__``, so that the per-token cost is one dict lookup).
        """
        vectorizer = CountVectorizer(
            lowercase=self.lowercase,
            strip_accents=self.strip_accents,
            preprocessor=self.preprocessor,
            tokenizer=self.tokenizer,
            token_pattern=self.token_pattern,
        )
        preprocess = vectorizer.build_preprocessor()
        ids = array("q")
        offsets = array("q", [0])
        if pretokenized:

            def convert(token):
                if not isinstance(token, str):
                    raise TypeError("non-str token")  # located by the caller
                return token_id(preprocess(token))

            lookup = _Memo(convert).__getitem__
            for i, doc in enumerate(docs):
                if not _is_token_document(doc):
                    raise _bad_document_error(i, doc, pretokenized=True)
                try:
                    ids.extend(map(lookup, doc))
                except TypeError:
                    _raise_for_bad_token(i, doc)
                    raise
                offsets.append(len(ids))
        else:
            if self.tokenizer is None and self.token_pattern is None:
                raise ValueError(
                    "token_pattern=None requires a tokenizer to split raw documents."
                )
            tokenize = vectorizer.build_tokenizer()
            for i, doc in enumerate(docs):
                if not isinstance(doc, str):
                    raise _bad_document_error(i, doc, pretokenized=False)
                ids.extend(map(token_id, tokenize(preprocess(doc))))
                offsets.append(len(ids))
        return np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64)
