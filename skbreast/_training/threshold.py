"""The decision threshold of a binary classifier, tuned without leaking test data.

IDC patches are about 28% positive, so the probability cut-off 0.5 that the
cross-entropy loss implies is a poor operating point for balanced accuracy or F1.
``threshold="balanced_accuracy"`` (or ``"f1"``) moves it, and chooses it where no
test image can influence it: on the early-stopping validation set that ``fit``
already holds out from the *training* data (whole patients when ``groups`` are
passed), after the best weights are restored. The images the threshold is tuned
on are therefore never trained on, and never come from a test split of a
cross-validation, which holds them outside ``fit`` altogether. Tuning it on the
test data would report an optimistic score: the threshold would have seen the
answers.

:func:`choose_threshold` is the search itself; the fit loop calls it with the
held-out indices and their positive-class probabilities.
"""

import numpy as np

#: The metrics a string ``threshold`` may name.
THRESHOLD_METRICS = ("balanced_accuracy", "f1")


def choose_threshold(y, indices, scores, metric):
    """Return the threshold maximising ``metric`` on the held-out samples, or None.

    Parameters
    ----------
    y : ndarray of int of shape (n_samples,)
        Encoded labels (0/1) of the whole training data.
    indices : ndarray of int of shape (n_validation,)
        The held-out validation samples, indices into ``y``.
    scores : ndarray of shape (n_validation,)
        Positive-class probability of each held-out sample (in ``indices``' order).
    metric : {"balanced_accuracy", "f1"}
        What to maximise; a sample is predicted positive where ``score > t``.

    Returns
    -------
    threshold : float or None
        The best candidate threshold; None when the held-out samples hold a single
        class (the metric cannot judge a threshold there). Candidates are 0.5 and
        the midpoints between consecutive distinct scores (every distinct set of
        predictions); among equally good candidates the one closest to 0.5 wins
        (the lower of two equally close ones).
    """
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"metric must be one of {THRESHOLD_METRICS}, got {metric!r}.")
    truth = np.asarray(y)[np.asarray(indices)] == 1
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    unique = np.unique(scores)
    candidates = np.append((unique[:-1] + unique[1:]) / 2, 0.5)
    # A threshold must lie strictly inside (0, 1): logit(t) is finite there.
    candidates = np.unique(candidates[(candidates > 0) & (candidates < 1)])
    positives = np.sort(scores[truth])
    negatives = np.sort(scores[~truth])
    # Samples with score > t, counted per candidate without a loop.
    tp = n_pos - np.searchsorted(positives, candidates, side="right")
    fp = n_neg - np.searchsorted(negatives, candidates, side="right")
    if metric == "balanced_accuracy":
        value = (tp / n_pos + (n_neg - fp) / n_neg) / 2
    else:  # f1 = 2 tp / (2 tp + fp + fn); the denominator holds n_pos > 0
        value = 2 * tp / (tp + fp + n_pos)
    best = np.flatnonzero(value >= value.max() - 1e-12)
    # np.unique sorted the candidates: argmin keeps the lower of two equally close.
    closest = best[np.argmin(np.abs(candidates[best] - 0.5))]
    return float(candidates[closest])
