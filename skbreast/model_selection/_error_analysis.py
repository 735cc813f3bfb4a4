"""Error analysis of a comparison: patients and images, worst first.

Pure functions behind :meth:`ComparisonResult.patient_table` and
:meth:`ComparisonResult.worst_images`, on one model's pooled predictions.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._compare_checks import scalar
from skbreast.model_selection._format import Table


def patient_rows(result, name):
    """Return the per-patient Table of :meth:`ComparisonResult.patient_table`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(12), 5)
    >>> y = groups % 2
    >>> X = rng.normal(size=(60, 2)) + y[:, None]
    >>> result = compare_models([LogisticRegression()], X, y, groups=groups,
    ...                         cv=3, random_state=0)
    >>> table = result.patient_table()
    >>> len(table["patient"]), table["images"][0]
    (12, 5)
    >>> table["share_correct"] == sorted(table["share_correct"])
    True
    """
    if result.groups is None:
        raise ValueError("patient_table needs patients: pass groups to compare_models.")
    p = result._prepared_data[name].patient
    probability = result.score_kind[name] == "predict_proba"
    pos_label, neg_label = result.pos_label, result.neg_label
    label = np.where(p.is_positive, pos_label, neg_label)
    if probability:
        distance = np.abs(p.is_positive - p.mean_score)
    else:
        distance = np.where(p.is_positive, -p.mean_score, p.mean_score)
    order = np.lexsort((-distance, p.share_correct))
    return Table(
        {
            "patient": [scalar(v) for v in p.patients[order]],
            "label": [scalar(v) for v in label[order]],
            "images": [int(v) for v in p.n_images[order]],
            "mean_score": [float(v) for v in p.mean_score[order]],
            "share_correct": [float(v) for v in p.share_correct[order]],
        }
    )


def worst_rows(p, probability, n, max_per_patient):
    """Return the ``n`` pooled predictions ``p`` farthest from their label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(40) % 2
    >>> X = rng.normal(size=(40, 2)) + y[:, None]
    >>> result = compare_models([LogisticRegression()], X, y,
    ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
    >>> worst = result.worst_images(n=3)
    >>> len(worst.index), bool(worst.y_score[0] <= 1)
    (3, True)
    """
    if probability:
        error = np.abs(p.is_positive - p.y_score)
    else:
        error = np.where(p.is_positive, -p.y_score, p.y_score)
    order = np.argsort(-error, kind="stable")
    if max_per_patient is not None and p.groups is not None:
        _, patient = np.unique(p.groups[order], return_inverse=True)
        seen = np.zeros(patient.max() + 1, dtype=int)
        keep = []
        for i, g in zip(order, patient.ravel()):
            if seen[g] < max_per_patient:
                seen[g] += 1
                keep.append(i)
        order = np.asarray(keep, dtype=int)
    order = order[:n]
    return Bunch(
        index=p.index[order],
        y_true=p.y_true[order],
        y_score=p.y_score[order],
        split=p.split[order],
        patient=None if p.groups is None else p.groups[order],
    )
