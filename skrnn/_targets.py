"""Targets and weights: label encoding, class weights, sample weights."""

import numbers

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["encode_labels", "label_weights", "check_sample_weight"]


def describe_labels(labels):
    """The first five labels for a message, NumPy scalars as plain values.

    NumPy 2 shows ``np.float64(0.0)`` where a user wrote ``0.0``.
    """
    labels = [v.item() if isinstance(v, np.generic) else v for v in list(labels)[:6]]
    shown = ", ".join(repr(v) for v in labels[:5])
    return shown + (", ..." if len(labels) > 5 else "")


def encode_labels(est, y, *, reset, classes=None, allow_new=False, what="y"):
    """Set (``reset``) or check ``est.classes_`` and return ``y`` as class indices.

    ``classes`` fixes the label set on a first ``partial_fit``.  When not
    resetting, labels outside ``classes_`` are an error.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D labels, got an array of shape {y.shape}.")
    # Before sklearn's check, whose integrality test casts NaN to int (a
    # RuntimeWarning ahead of its own error).
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{what} contains NaN or infinity; labels must be finite.")
    try:
        labels = np.unique(y)
    except TypeError:
        # Strings and numbers do not sort together: sklearn's check catches
        # the mix only when a number comes first, this sort raised a bare
        # "'<' not supported" otherwise.
        kinds = sorted({type(v).__name__ for v in y})
        raise ValueError(
            f"{what} mixes label types ({', '.join(kinds)}); labels must be all "
            "strings or all numbers."
        ) from None
    check_classification_targets(y)
    if reset:
        if classes is not None:
            all_classes = np.unique(np.asarray(classes))
            unseen = np.setdiff1d(labels, all_classes)
            if unseen.size:
                raise ValueError(
                    f"{what} contains labels {describe_labels(unseen)} that are not in "
                    f"`classes` {describe_labels(all_classes)}."
                )
            est.classes_ = all_classes
        else:
            est.classes_ = labels
        if est.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(est).__name__} needs samples of at least 2 classes in the "
                "data, but the data contains only one class: "
                f"{describe_labels(est.classes_[:1])}."
            )
    else:
        unseen = np.setdiff1d(labels, est.classes_)
        if unseen.size:
            raise ValueError(
                f"{what} contains labels {describe_labels(unseen)} not seen when the "
                f"model was first fitted (classes_ = {describe_labels(est.classes_)})."
            )
    return np.searchsorted(est.classes_, y).astype(np.int64)


def label_weights(class_weight, classes, encoded):
    """Per-row weights from ``class_weight`` ('balanced', a dict or None)."""
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has labels {describe_labels(unknown)} that are not classes "
                f"of the data ({describe_labels(classes)})."
            )
        per_class = np.array([class_weight.get(c, 1.0) for c in classes.tolist()], dtype=float)
    else:
        present = np.unique(encoded)
        per_class = np.ones(classes.shape[0])
        per_class[present] = compute_class_weight(
            "balanced", classes=present, y=encoded
        )
    if np.any(per_class < 0) or not np.all(np.isfinite(per_class)):
        raise ValueError("class_weight values must be finite and non-negative.")
    return per_class[encoded]


def check_sample_weight(sample_weight, n_samples):
    """Validated float64 per-sequence weights, or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, float(sample_weight))
    sw = np.asarray(sample_weight)
    if sw.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
    sw = sw.astype(np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},): one weight "
            f"per sequence."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("sample_weight must be non-negative; found negative weights.")
    return sw

