"""Patient-disjoint model selection and honest model comparison.

Splitters that keep every patient on one side of each split, and the statistics to
compare classifiers on them:

- :class:`RepeatedStratifiedGroupKFold` and :class:`PatientShuffleSplit` (the
  BreakHis paper's protocol of random patient-disjoint trials);
- :func:`delong_test` and :func:`delong_roc_variance` for ROC AUCs of pooled
  out-of-fold scores;
- :func:`corrected_ttest`, the Nadeau-Bengio corrected resampled t-test of paired
  per-fold scores;
- :func:`bootstrap_ci`, a patient-level (cluster) bootstrap for any metric, and
  :func:`operating_points` (sensitivity at a target specificity and vice versa)
  with intervals from it;
- :func:`calibration_summary` and :func:`expected_calibration_error`;
- :func:`compare_models`, which cross-validates several classifiers on the same
  patient-disjoint folds and returns a :class:`ComparisonResult` with all of the
  above: the table with intervals, paired tests, calibration, error analysis,
  figures and a report.

The statistics depend on NumPy, SciPy and scikit-learn only; figures use
matplotlib, and only a report's Grad-CAM imports Keras.
"""

# The point metrics are defined with the other metrics (skbreast.metrics, where the
# registry needs them) and stay public here, beside their intervals.
from skbreast.metrics._calibration import expected_calibration_error
from skbreast.metrics._operating_points import (
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)
from skbreast.model_selection._baselines import (
    colour_histogram_baseline,
    thumbnail_baseline,
)
from skbreast.model_selection._bootstrap import bootstrap_ci
from skbreast.model_selection._calibration import calibration_summary
from skbreast.model_selection._compare import compare_models
from skbreast.model_selection._delong import delong_roc_variance, delong_test
from skbreast.model_selection._operating_points import operating_points
from skbreast.model_selection._result import ComparisonResult
from skbreast.model_selection._split import (
    PatientShuffleSplit,
    RepeatedStratifiedGroupKFold,
)
from skbreast.model_selection._ttest import corrected_ttest

__all__ = [
    "ComparisonResult",
    "PatientShuffleSplit",
    "RepeatedStratifiedGroupKFold",
    "bootstrap_ci",
    "calibration_summary",
    "colour_histogram_baseline",
    "compare_models",
    "corrected_ttest",
    "delong_roc_variance",
    "delong_test",
    "expected_calibration_error",
    "operating_points",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "thumbnail_baseline",
]
