"""The bundled 8x8 digits read as sequences of pixel rows."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from ._validation import _check_bool

__all__ = ["load_digits_sequences"]

_DESCR_HEADER = """\
Digits as sequences
-------------------

scikit-learn's bundled copy of the UCI optical recognition of handwritten
digits test set (1797 images of 8x8 pixels, 10 classes, no download), with
each image read top to bottom as a sequence of 8 steps, a step being one row
of 8 pixel intensities in 0..16.  ``data`` has shape (1797, 8, 8):
(n_samples, n_steps, n_features).  Dividing by 16 scales the pixels to [0, 1].

The description of the original data set follows.

"""


def load_digits_sequences(*, return_X_y=False):
    """Load the 8x8 handwritten digits as sequences of 8 rows of 8 pixels.

    A small, download-free sequence classification benchmark: the images of
    :func:`sklearn.datasets.load_digits` are read row by row, so a recurrent
    network sees one 8-pixel row per step.

    =================   ==============
    Classes                         10
    Samples total                 1797
    Steps per sample                 8
    Features per step                8
    Values              integers 0..16
    =================   ==============

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (1797, 8, 8)
            Float pixel intensities, ``data[i, t]`` being row ``t`` of image
            ``i``.
        target : ndarray of shape (1797,)
            Digit of each image, integers 0..9.
        target_names : ndarray of shape (10,)
            The digits 0..9.
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True
        The arrays described above.

    See Also
    --------
    sklearn.datasets.load_digits : The same images as flat 64-pixel rows.

    Examples
    --------
    >>> from skrnn.datasets import load_digits_sequences
    >>> digits = load_digits_sequences()
    >>> digits.data.shape, digits.target.shape
    ((1797, 8, 8), (1797,))
    >>> X, y = load_digits_sequences(return_X_y=True)
    >>> X.dtype.name, y[:5].tolist()
    ('float64', [0, 1, 2, 3, 4])
    """
    return_X_y = _check_bool(return_X_y, "return_X_y")
    digits = load_digits()
    data = np.ascontiguousarray(digits.images, dtype=np.float64)
    target = np.asarray(digits.target)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=np.asarray(digits.target_names),
        DESCR=_DESCR_HEADER + digits.DESCR,
    )
