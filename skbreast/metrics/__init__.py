"""Clinical and patient-level metrics for breast histopathology classifiers.

Image-level accuracy hides what matters in pathology. Datasets are imbalanced (IDC
patches are about 28% positive, BreakHis images 69% malignant), a missed cancer costs
more than a false alarm, and pathologists judge a model per patient, not per image.
This module adds

- :func:`sensitivity_score` and :func:`specificity_score` with ready-made scorers
  :data:`sensitivity_scorer` and :data:`specificity_scorer` for ``cross_validate``;
- :func:`patient_scores`, which aggregates image scores per patient (BreakHis' patient
  recognition rate, patient-level ROC AUC and a per-patient table);
- :func:`make_patient_scorer`, a scorer that receives each test fold's ``groups``
  (patient ids) through scikit-learn's metadata routing;
- the metric registry: every metric that skbreast reports, defined once with its
  key, labels, direction and function (:class:`Metric`, :func:`get_metric`,
  :func:`get_metric_names`), and :func:`compute_metrics`, which scores one set of
  predictions with all of them.

The module depends on scikit-learn and NumPy only; it never imports Keras.
"""

from sklearn.metrics import make_scorer

from skbreast.metrics._classification import sensitivity_score, specificity_score
from skbreast.metrics._compute import compute_metrics
from skbreast.metrics._patient import make_patient_scorer, patient_scores
from skbreast.metrics._registry import Metric, get_metric, get_metric_names

__all__ = [
    "Metric",
    "compute_metrics",
    "get_metric",
    "get_metric_names",
    "make_patient_scorer",
    "patient_scores",
    "sensitivity_score",
    "sensitivity_scorer",
    "specificity_score",
    "specificity_scorer",
]

#: Scorer for ``cross_validate(scoring={"sensitivity": sensitivity_scorer})``; it uses
#: ``pos_label=1``. For string labels build your own:
#: ``make_scorer(sensitivity_score, pos_label="malignant")``.
sensitivity_scorer = make_scorer(sensitivity_score)

#: Scorer for ``cross_validate(scoring={"specificity": specificity_scorer})``; it uses
#: ``pos_label=1``. For string labels build your own:
#: ``make_scorer(specificity_score, pos_label="malignant")``.
specificity_scorer = make_scorer(specificity_score)
