"""Out-of-fold predictions of a comparison: their table and their pooling.

Pure functions behind :class:`~skbreast.model_selection.ComparisonResult`:
every split's test scores become one table per model, and the table is pooled
into one score per sample for the bootstrap, DeLong's test and the error
analysis.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._metrics import predicted_positive, prepare


def prediction_table(runs, splits, repeat, y, pos_label, neg_label):
    """Return one model's out-of-fold predictions as ``{column: ndarray}``."""
    return {
        "index": np.concatenate([test for _, test in splits]),
        "split": np.concatenate(
            [np.full(len(test), k) for k, (_, test) in enumerate(splits)]
        ),
        "repeat": np.concatenate(
            [np.full(len(test), repeat[k]) for k, (_, test) in enumerate(splits)]
        ),
        "y_true": np.concatenate([y[test] for _, test in splits]),
        "y_score": np.concatenate([r.score for r in runs]),
        "y_pred": np.concatenate(
            [np.where(r.y_pred, pos_label, neg_label) for r in runs]
        ),
        "threshold": np.concatenate(
            [np.full(len(test), run_threshold(r)) for r, (_, test) in zip(runs, splits)]
        ),
    }


def run_threshold(run):
    """Return the probability threshold of ``predict`` of one run's model."""
    threshold = getattr(run, "threshold", None)
    return 0.5 if threshold is None else float(threshold)


def resolve_pooling(pooling, splits, repeat, n_samples):
    """Return ``(pooling, description)``, with ``"auto"`` resolved."""
    first = np.zeros(n_samples, dtype=bool)
    for (_, test), r in zip(splits, repeat):
        if r == 0:
            first[test] = True
    if pooling == "auto":
        pooling = "first" if first.all() else "mean"
    tested = np.zeros(n_samples, dtype=int)
    for _, test in splits:
        tested[test] += 1
    n_repeats = int(repeat.max()) + 1
    if pooling == "first":
        description = (
            "the first repeat's out-of-fold predictions, every sample scored "
            "once by the model that did not see it"
            + (
                f" (the other {n_repeats - 1} repeats enter the fold means and "
                "the t-test)"
                if n_repeats > 1
                else ""
            )
        )
    else:
        description = (
            "each sample's out-of-fold scores averaged over the splits that "
            f"tested it ({int((tested > 0).sum())} of {n_samples} samples tested, "
            f"{tested[tested > 0].mean():.1f} times on average)"
        )
    return pooling, description


def pool(p, pooling, kind, y, groups, labels, n_splits, pos_is_second):
    """Pool one model's prediction table ``p`` into one score per sample.

    ``labels`` is ``(pos_label, neg_label)``; ``kind`` the model's score kind.
    Returns the Bunch of :meth:`ComparisonResult.pooled`. Its predicted labels
    are those of the models' thresholds (``threshold_``, 0.5 without one): with
    ``"first"``, each sample's label is the one its split's model predicted;
    with ``"mean"``, see below.
    """
    pos_label, neg_label = labels
    thresholds = p.get("threshold")
    if thresholds is None:  # a table without thresholds: predict's default
        thresholds = np.full(len(p["index"]), 0.5)
    if pooling == "first":
        keep = p["repeat"] == 0
        order = np.argsort(p["index"][keep], kind="stable")
        index = p["index"][keep][order]
        score = p["y_score"][keep][order]
        split = p["split"][keep][order]
        if "y_pred" in p:
            # The labels predict gave, at the threshold of the split's model.
            positive = p["y_pred"][keep][order] == pos_label
        else:
            positive = predicted_positive(
                score, kind, pos_is_second, thresholds[keep][order]
            )
    else:
        n = len(y)
        counts = np.bincount(p["index"], minlength=n)
        sums = np.bincount(p["index"], weights=p["y_score"], minlength=n)
        index = np.flatnonzero(counts)
        score = sums[index] / counts[index]
        # The first split that tested each sample.
        first_split = np.full(n, n_splits)
        np.minimum.at(first_split, p["index"], p["split"])
        split = first_split[index]
        # The mean score is cut at the mean of the thresholds of the models that
        # scored the sample: each model predicts where its margin p - t is
        # positive, and the mean margin mean(p) - mean(t) is positive exactly
        # where the mean score exceeds the mean threshold. So a sample is
        # positive when its models, on average, put it above their own cut;
        # with one threshold everywhere it is that threshold (0.5 exactly).
        mean_threshold = (
            np.bincount(p["index"], weights=thresholds, minlength=n)[index]
            / counts[index]
        )
        positive = predicted_positive(score, kind, pos_is_second, mean_threshold)
    y_true = y[index]
    return Bunch(
        index=index,
        y_true=y_true,
        is_positive=y_true == pos_label,
        y_score=score,
        y_pred=np.where(positive, pos_label, neg_label),
        predicted_positive=positive,
        groups=None if groups is None else groups[index],
        split=split,
    )


def external_predictions(external, pos_label, neg_label, pos_is_second):
    """Return the ``external`` Bunch of a result from the external runs."""
    predictions = {}
    for name, run in external.runs.items():
        # The labels of the model fitted on all the data, at its threshold_.
        threshold = run_threshold(run)
        positive = predicted_positive(run.score, run.kind, pos_is_second, threshold)
        predictions[name] = {
            "y_true": external.y,
            "y_score": run.score,
            "y_pred": np.where(positive, pos_label, neg_label),
            "threshold": np.full(len(run.score), threshold),
        }
    return Bunch(
        y=external.y,
        groups=external.groups,
        unit="patient" if external.groups is not None else "image",
        n_samples=external.n_samples,
        n_patients=external.n_patients,
        shared_patients=external.shared_patients,
        duplicates=external.duplicates,
        notes=list(external.notes),
        predictions=predictions,
        score_kind={n: r.kind for n, r in external.runs.items()},
        fit_time={n: float(r.fit_time) for n, r in external.runs.items()},
        estimators=(
            {n: r.estimator for n, r in external.runs.items()}
            if external.runs
            and next(iter(external.runs.values())).estimator is not None
            else None
        ),
    )


def pool_all(result):
    """Return ``{name: pooled Bunch}`` of every model and baseline of ``result``."""
    return {
        name: pool(
            p,
            result.pooling,
            result.score_kind[name],
            result.y,
            result.groups,
            (result.pos_label, result.neg_label),
            result.n_splits,
            result._pos_is_second,
        )
        for name, p in result.predictions.items()
    }


def prepare_pooled(pooled, score_kind):
    """Return ``{name: prepare(...)}``: the metrics' arrays of each pooled Bunch."""
    return {
        name: prepare(
            p.is_positive,
            p.y_score,
            p.predicted_positive,
            probability=score_kind[name] == "predict_proba",
            groups=p.groups,
        )
        for name, p in pooled.items()
    }
