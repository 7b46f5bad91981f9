"""Pickling fitted estimators: the version stamp and the compatibility policy.

What a pickle holds
-------------------
A pickled skrnn estimator (``pickle``, ``joblib.dump``, ``cloudpickle``)
holds its hyper-parameters, its fitted attributes and a little private state,
all of it plain Python values, numpy arrays and two small skrnn records
(the architecture and the optimizer's moments).  It never holds compiled
code: no Numba dispatcher and no ``numba.typed`` container.  The kernels
are module-level functions that each process compiles, or loads from Numba's
cache, when it first calls them; so a pickle does not depend on the Numba
version, the CPU it was compiled for or the cache.

Every pickle is stamped with ``skrnn.__version__`` (the ``_skrnn_version``
key of the state, dropped again on loading).

Compatibility policy
--------------------
* **Same skrnn version**: a loaded model predicts exactly what the saved one
  did, in any process (the test suite checks this bit for bit in a fresh
  interpreter).  As for any scikit-learn estimator, numpy and scikit-learn
  must also be versions that can read each other's pickles.
* **Another skrnn version, or no stamp** (a pickle from before stamping):
  loading emits :class:`InconsistentSkrnnVersionWarning`.  Private state (names
  starting with ``_``) may change between versions without notice, so the
  loaded model may predict differently or fail; nothing is converted.  Refit
  when you can.
* **Moving a model between versions**: the public weight attributes are the
  durable format.  They are plain ndarrays in PyTorch's layout, whose names
  and shapes are fixed by the public API: ``recurrent_weights_`` (per layer,
  per direction: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``),
  ``embedding_``, ``coef_`` and ``intercept_``, next to ``classes_`` for the
  classifier and tagger (and, for text, the encoder's ``vocabulary_``).  Save
  them with the version that trained the model (for instance with
  ``numpy.savez``); with the new version, fit an estimator with the same
  hyper-parameters on a few samples of the same kind of input (one epoch: that
  fixes the architecture and the classes), then assign the saved arrays to
  those attributes.  Prediction always reads the public attributes, so the
  model predicts as before.  The same arrays load into ``torch.nn.RNN`` /
  ``LSTM`` / ``GRU`` + ``torch.nn.Linear`` unchanged.
"""

import warnings

__all__ = ["InconsistentSkrnnVersionWarning", "VersionStampMixin"]

# Key of the version stamp in a pickled estimator's state.
VERSION_KEY = "_skrnn_version"


def _running_version():
    # Read at call time, not at import: skrnn/__init__.py sets __version__
    # after importing the estimators, which import this module.
    from . import __version__

    return __version__


class InconsistentSkrnnVersionWarning(UserWarning):
    """Warning raised when an estimator is unpickled with another skrnn version.

    The counterpart of scikit-learn's
    :class:`~sklearn.exceptions.InconsistentVersionWarning`, for skrnn's own
    version (scikit-learn does not stamp estimators defined outside it).

    Parameters
    ----------
    estimator_name : str
        Class name of the unpickled estimator.
    current_skrnn_version : str
        The skrnn version loading the pickle.
    original_skrnn_version : str or None
        The skrnn version that saved it; None when the pickle carries no
        stamp (it was made before skrnn stamped its pickles).
    """

    def __init__(
        self, *, estimator_name, current_skrnn_version, original_skrnn_version
    ):
        self.estimator_name = estimator_name
        self.current_skrnn_version = current_skrnn_version
        self.original_skrnn_version = original_skrnn_version
        super().__init__(str(self))

    def __reduce__(self):
        # Keyword-only __init__: rebuild from the fields (pickled with an error
        # raised under ``-W error`` in a worker process, for instance).
        return (
            _rebuild_warning,
            (
                type(self),
                self.estimator_name,
                self.current_skrnn_version,
                self.original_skrnn_version,
            ),
        )

    def __str__(self):
        if self.original_skrnn_version is None:
            saved = "an unknown skrnn version (the pickle has no version stamp)"
        else:
            saved = f"skrnn {self.original_skrnn_version}"
        return (
            f"This {self.estimator_name} was pickled with {saved} and is being "
            f"loaded with skrnn {self.current_skrnn_version}. Its private state "
            "may have changed between versions, so its predictions may differ or "
            "it may fail. Refit it with this version, or carry its public weight "
            "attributes (recurrent_weights_, embedding_, coef_, intercept_) over "
            "as described in skrnn._persistence."
        )


def _rebuild_warning(cls, estimator_name, current, original):
    return cls(
        estimator_name=estimator_name,
        current_skrnn_version=current,
        original_skrnn_version=original,
    )


def stamp_version(state):
    """A copy of ``state`` carrying the running skrnn version."""
    return {**state, VERSION_KEY: _running_version()}


def check_version(estimator, state):
    """Remove the stamp from ``state`` (in place); warn if it is not ours."""
    original = state.pop(VERSION_KEY, None)
    current = _running_version()
    if original != current:
        warnings.warn(
            InconsistentSkrnnVersionWarning(
                estimator_name=type(estimator).__name__,
                current_skrnn_version=current,
                original_skrnn_version=original,
            ),
            stacklevel=3,
        )


class VersionStampMixin:
    """Pickles stamped with the skrnn version, checked on loading.

    Listed before ``BaseEstimator`` by every skrnn estimator; a subclass that
    edits its state calls ``super()`` first (the state it gets back is a
    stamped copy, safe to edit).
    """

    def __getstate__(self):
        return stamp_version(super().__getstate__())

    def __setstate__(self, state):
        check_version(self, state)  # drops the stamp; warns if another version saved it
        super().__setstate__(state)
