"""Input checks shared by the metrics and the statistics of the comparison.

Every function here raises a ``ValueError`` that names the argument and the problem,
so that a user who passes the wrong array learns which one from the message.
"""

import numpy as np
from sklearn.utils import column_or_1d


def check_same_length(**arrays):
    """Raise if the named 1-D arrays differ in length."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"The inputs must have one entry per sample; {described}.")


def check_scores(y_score, name="y_score"):
    """Return ``y_score`` as a finite 1-D float array, or raise naming the problem."""
    try:
        y_score = column_or_1d(y_score).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a 1-D array of numbers, one per sample; {exc}"
        ) from exc
    n_nan = int(np.isnan(y_score).sum())
    n_inf = int(np.isinf(y_score).sum())
    if n_nan or n_inf:
        problems = [
            f"{n} {what}" for n, what in ((n_nan, "NaN"), (n_inf, "infinite")) if n
        ]
        raise ValueError(
            f"{name} holds {' and '.join(problems)} value(s) out of "
            f"{len(y_score)}; scores must be finite. A model that "
            "outputs NaN has diverged: check its training before comparing it."
        )
    return y_score


def check_pos_label(labels, pos_label, strings="The labels are strings"):
    """Raise if ``pos_label`` cannot be the positive class among ``labels``.

    ``labels`` are the unique labels (at most two). ``strings`` begins the message
    for string labels with a non-string ``pos_label``: with one class present the
    first check cannot fire, and this catches the common slip of leaving
    ``pos_label=1`` with "benign"/"malignant" labels.
    """
    if labels.shape[0] == 2 and not np.any(labels == pos_label):
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of "
            f"{labels.tolist()}."
        )
    if labels.dtype.kind in "OUS" and not isinstance(pos_label, str):
        raise ValueError(
            f"{strings} {labels.tolist()} but pos_label={pos_label!r}; pass "
            "pos_label as one of the labels."
        )


def check_binary_target(y_true, pos_label):
    """Return ``(is_positive, reason)`` for binary labels ``y_true``.

    ``reason`` is None when both classes occur, or a sentence saying why a
    two-class statistic is undefined (one class only); the caller reports it as
    n/a instead of crashing.
    """
    y_true = column_or_1d(y_true)
    labels = np.unique(y_true)
    if len(labels) > 2:
        raise ValueError(
            f"y_true must be binary; it holds {len(labels)} classes "
            f"({', '.join(map(repr, labels.tolist()[:5]))}...)."
        )
    if len(labels) == 0:
        raise ValueError("y_true is empty.")
    if len(labels) == 2 and pos_label not in labels.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels in y_true "
            f"({labels[0]!r}, {labels[1]!r}); pass pos_label=<the positive class>."
        )
    is_positive = y_true == pos_label
    reason = None
    if len(labels) == 1:
        which = "positive" if is_positive[0] else "negative"
        reason = (
            f"y_true holds one class only ({labels[0]!r}, all {which}); the "
            "statistic needs both positive and negative samples."
        )
    return is_positive, reason
