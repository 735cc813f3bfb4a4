"""The metrics of :func:`compare_models`, computed for many weightings at once.

Which metrics there are, their keys, labels, direction and operating points are
the registry's (:mod:`skbreast.metrics`); this module is their vectorised
implementation.

One function, :func:`weighted_metrics`, computes every metric of the comparison
table for a matrix of sample weights: one row of ones scores a fold, one row per
bootstrap resample (each image weighted by how often its patient was drawn) gives
the bootstrap distribution. Fold scores, pooled estimates and intervals therefore
share one definition, and the bootstrap costs a few matrix products instead of
2,000 calls of each scikit-learn metric (which spend most of their time checking
their input). The tests check every metric against scikit-learn's function and
the bootstrap against :func:`bootstrap_ci` with the same seed.

Definitions (binary; predictions are thresholded scores, ``p > 0.5`` or
``decision_function > 0``, what ``predict`` returns for a binary classifier):

- precision is undefined without a positive prediction, recall (sensitivity)
  without a positive sample, specificity without a negative one, F1 when there is
  neither a positive sample nor a positive prediction, and the ranking metrics
  (ROC AUC, operating points) and balanced accuracy unless both classes occur;
- the Brier score and the expected calibration error (10 equal-width bins, those
  of :func:`expected_calibration_error`) need probabilities;
- the patient recognition rate (Spanhol et al., 2016) is the mean over patients of
  each patient's share of correctly classified images; the patient ROC AUC ranks
  each patient's mean score against the patient's majority label (ties count as
  positive, as in :func:`skbreast.metrics.patient_scores`).
"""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import Bunch

from skbreast.metrics import get_metric, get_metric_names
from skbreast.metrics._calibration import _bins
from skbreast.model_selection._bootstrap import auc_from_ranks
from skbreast.model_selection._operating_points import point_from_ranks

#: Image-level metrics, in the order of the comparison table (the registry's).
IMAGE_METRICS = tuple(get_metric_names("image"))
#: Patient-level metrics, computed when patients are known.
PATIENT_METRICS = tuple(get_metric_names("patient"))
METRICS = IMAGE_METRICS + PATIENT_METRICS

_PROBABILITY_METRICS = frozenset(
    key for key in METRICS if "probabilities" in get_metric(key).needs
)
# The ranking metrics, from the per-rank weights; an operating point's target is
# the registry's.
_RANK_METRICS = {
    "roc_auc": auc_from_ranks,
    **{
        key: point_from_ranks(*get_metric(key).operating_point)
        for key in IMAGE_METRICS
        if get_metric(key).operating_point is not None
    },
}
# The bins of expected_calibration_error's default.
ECE_BINS = 10


def prepare(is_positive, y_score, y_pred, *, probability, groups=None):
    """Return the arrays :func:`weighted_metrics` reads, computed once.

    Parameters
    ----------
    is_positive, y_pred : ndarray of bool of shape (n_samples,)
        True and predicted class (positive or not).
    y_score : ndarray of shape (n_samples,)
        Positive-class probability or decision value.
    probability : bool
        Whether ``y_score`` is a probability (calibration metrics need one).
    groups : ndarray of shape (n_samples,), default=None
        Patients; adds the patient-level arrays.
    """
    is_positive = np.asarray(is_positive, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    _, rank = np.unique(y_score, return_inverse=True)
    data = Bunch(
        is_positive=is_positive,
        y_pred=y_pred,
        y_score=y_score,
        probability=probability,
        rank=rank.ravel(),
        n_ranks=int(rank.max()) + 1 if len(rank) else 0,
        cells={
            "tp": (y_pred & is_positive).astype(np.float64),
            "fp": (y_pred & ~is_positive).astype(np.float64),
            "fn": (~y_pred & is_positive).astype(np.float64),
            "tn": (~y_pred & ~is_positive).astype(np.float64),
        },
        patient=None,
    )
    if probability:
        bin_ids, _ = _bins(y_score, ECE_BINS, "uniform")
        onehot = np.zeros((len(y_score), ECE_BINS))
        onehot[np.arange(len(y_score)), bin_ids] = 1.0
        data.update(
            squared_error=(y_score - is_positive) ** 2,
            bin_positive=onehot * is_positive[:, None],
            bin_probability=onehot * y_score[:, None],
        )
    if groups is not None:
        patients, patient_of_sample = np.unique(groups, return_inverse=True)
        n = len(patients)
        n_images = np.bincount(patient_of_sample, minlength=n)
        correct = np.bincount(
            patient_of_sample, weights=(y_pred == is_positive), minlength=n
        )
        n_pos = np.bincount(patient_of_sample, weights=is_positive, minlength=n)
        mean_score = np.bincount(patient_of_sample, weights=y_score, minlength=n)
        mean_score /= n_images
        _, patient_rank = np.unique(mean_score, return_inverse=True)
        data.patient = Bunch(
            patients=patients,
            of_sample=patient_of_sample,
            n_images=n_images,
            share_correct=correct / n_images,
            mean_score=mean_score,
            # The majority label; a tie counts as positive (a missed cancer
            # costs more than a false alarm).
            is_positive=2 * n_pos >= n_images,
            rank=patient_rank.ravel(),
            n_ranks=int(patient_rank.max()) + 1,
        )
    return data


def _per_rank(weights, rank, n_ranks, mask):
    """Per row of ``weights``, the weight of the ``mask`` samples at each rank."""
    k = len(weights)
    offsets = (np.arange(k) * n_ranks)[:, None]
    flat = (offsets + rank[mask][None, :]).ravel()
    return np.bincount(
        flat, weights=weights[:, mask].ravel(), minlength=k * n_ranks
    ).reshape(k, n_ranks)


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_metrics(weights, data, names, patient_weights=None):
    """Every metric in ``names`` for each row of ``weights``.

    Parameters
    ----------
    weights : ndarray of shape (n_rows, n_samples)
        Sample weights; a row of ones is the plain metric.
    data : Bunch
        From :func:`prepare`.
    names : iterable of str
        Metric names from :data:`METRICS`.
    patient_weights : ndarray of shape (n_rows, n_patients), default=None
        Patient weights for the patient metrics (how often each patient was
        drawn); None weights every patient of the data once.

    Returns
    -------
    values : dict of str to ndarray of shape (n_rows,)
        NaN where a metric is undefined (see the module docstring).
    """
    weights = np.asarray(weights, dtype=np.float64)
    c = {cell: weights @ v for cell, v in data.cells.items()}
    total = c["tp"] + c["fp"] + c["fn"] + c["tn"]
    n_pos, n_neg = c["tp"] + c["fn"], c["tn"] + c["fp"]
    both = (n_pos > 0) & (n_neg > 0)
    out = {}
    recall = _ratio(c["tp"], n_pos)
    specificity = _ratio(c["tn"], n_neg)
    simple = {
        "accuracy": lambda: _ratio(c["tp"] + c["tn"], total),
        "balanced_accuracy": lambda: (recall + specificity) / 2,
        "precision": lambda: _ratio(c["tp"], c["tp"] + c["fp"]),
        "recall": lambda: recall,
        "specificity": lambda: specificity,
        "f1": lambda: _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"]),
    }
    names = list(names)
    for name in names:
        if name in simple:
            out[name] = simple[name]()
        elif name in _PROBABILITY_METRICS:
            if not data.probability:
                out[name] = np.full(len(weights), np.nan)
            elif name == "brier_score":
                out[name] = _ratio(weights @ data.squared_error, total)
            else:
                gap = np.abs(
                    weights @ data.bin_positive - weights @ data.bin_probability
                )
                out[name] = _ratio(gap.sum(axis=1), total)
    rank_names = [n for n in names if n in _RANK_METRICS]
    if rank_names:
        pos = _per_rank(weights, data.rank, data.n_ranks, data.is_positive)
        neg = _per_rank(weights, data.rank, data.n_ranks, ~data.is_positive)
        for name in rank_names:
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.asarray(_RANK_METRICS[name](pos, neg), dtype=np.float64)
            out[name] = np.where(both, values, np.nan)
    patient_names = [n for n in names if n in PATIENT_METRICS]
    if patient_names:
        p = data.patient
        if p is None:
            for name in patient_names:
                out[name] = np.full(len(weights), np.nan)
        else:
            pw = (
                np.ones((len(weights), len(p.patients)))
                if patient_weights is None
                else np.asarray(patient_weights, dtype=np.float64)
            )
            if "patient_accuracy" in patient_names:
                out["patient_accuracy"] = _ratio(pw @ p.share_correct, pw.sum(axis=1))
            if "patient_roc_auc" in patient_names:
                ppos = _per_rank(pw, p.rank, p.n_ranks, p.is_positive)
                pneg = _per_rank(pw, p.rank, p.n_ranks, ~p.is_positive)
                ok = (ppos.sum(axis=1) > 0) & (pneg.sum(axis=1) > 0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    auc = auc_from_ranks(ppos, pneg)
                out["patient_roc_auc"] = np.where(ok, auc, np.nan)
    return {name: out[name] for name in names}


def undefined_reason(name, data, pos_label, neg_label):
    """Why metric ``name`` is NaN on the unweighted ``data`` (one sentence)."""
    n_pos = int(data.is_positive.sum())
    n_neg = len(data.is_positive) - n_pos
    n_pred = int(data.y_pred.sum())
    if name in _PROBABILITY_METRICS and not data.probability:
        return (
            "the model has no predict_proba; its decision_function values are not "
            "probabilities"
        )
    if name == "precision" and n_pred == 0:
        return f"no image was predicted {pos_label!r}"
    if name == "recall" and n_pos == 0:
        return f"no {pos_label!r} image in the test set"
    if name == "specificity" and n_neg == 0:
        return f"no {neg_label!r} image in the test set"
    if name == "f1" and n_pos == 0 and n_pred == 0:
        return f"no {pos_label!r} image and no {pos_label!r} prediction"
    if n_pos == 0 or n_neg == 0:
        only = pos_label if n_neg == 0 else neg_label
        return f"the test set holds one class only ({only!r})"
    if name in PATIENT_METRICS:
        if data.patient is None:
            return "no patients were given"
        return "every test patient has the same majority label"
    return "undefined on these samples"


def predicted_positive(score, kind, pos_is_second, threshold=0.5):
    """Return whether ``predict`` of a binary classifier gives the positive class.

    ``predict`` is ``classes_[1]`` where its probability exceeds the model's
    ``threshold_`` (``threshold``: a float, or one per score; 0.5 is
    ``classes_[argmax(proba)]``, ties to the first class) or ``classes_[decision >
    0]``. ``score`` is the positive class's: when that is ``classes_[0]``, its
    score is ``1 - p`` and ``predict`` gives it where ``p <= threshold``, so the
    positive class wins a tie only then.
    """
    if kind == "predict_proba":
        threshold = np.asarray(threshold, dtype=np.float64)
        cut = threshold if pos_is_second else 1.0 - threshold
    else:
        cut = 0.0
    return score > cut if pos_is_second else score >= cut


def custom_metric(metric, y01, score):
    """``metric(y01, score)`` as ``(value, reason)``; NaN with a reason if undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            value = float(metric(y01, score))
        except ValueError as exc:
            return np.nan, str(exc).splitlines()[0]
    if not np.isfinite(value):
        return np.nan, "the metric returned a non-finite value"
    return value, None
