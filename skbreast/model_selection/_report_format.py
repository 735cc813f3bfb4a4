"""The comparison report's selections of metrics and the formats of its cells."""

import math

from skbreast.metrics import get_metric, get_metric_names

#: Metrics of the paired-comparison table.
PAIRED_METRICS = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "brier_score",
    "sensitivity_at_90_specificity",
    "patient_accuracy",
    "patient_roc_auc",
)
#: The operating points and their targets, from the registry.
OPERATING_POINTS = {
    key: get_metric(key).operating_point
    for key in get_metric_names("image")
    if get_metric(key).operating_point is not None
}


def _fmt_mean_sd(mean, sd, digits=3):
    if math.isnan(mean):
        return "n/a"
    if math.isnan(sd):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _fmt_ci(estimate, low, high):
    if math.isnan(estimate):
        return "n/a"
    if math.isnan(low):
        return f"{estimate:.3f} (no CI)"
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"
