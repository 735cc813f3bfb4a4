"""
Comparing a CNN and a ResNet honestly on BreakHis patients
==========================================================

"Is the ResNet better than the CNN on *my patients*, and by how much?" A table of
fold means cannot say: with 17 patients the spread between folds is as large as
any difference between the models. :func:`skbreast.model_selection.compare_models`
fits both models on the same patient-disjoint folds and returns a result that
answers with the statistics a reviewer asks for:

- every metric's mean ± sd over folds, and a 95% confidence interval from a
  bootstrap that resamples **patients**, not images;
- a paired comparison: the Nadeau-Bengio corrected t-test over folds, DeLong's
  test on the pooled scores, and a paired patient-bootstrap interval;
- calibration (Brier score, expected calibration error, a reliability diagram),
  sensitivity at 90% specificity, and the patients the model gets wrong.

This example uses the 319-image BreakHis subset beside the project
(``../shared/data/breakhis_100x_half``) at a small size and trains tiny models
for a few epochs so that it runs in well under a minute: read the numbers as a
demonstration of the method, not of the models. When the folder is absent it
falls back to the synthetic patches of :func:`skbreast.datasets.make_patches`.
See :ref:`comparing` for how to read every statistic.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets import load_breakhis, make_patches
from skbreast.model_selection import compare_models

# %%
# Images and their patients
# -------------------------
# ``groups`` holds the patient of every image. It decides the folds (no patient
# on both sides), what the bootstrap resamples, and reaches the estimators' fit,
# where early stopping then holds out whole patients.
here = Path(globals().get("__file__", "plot_compare_models.py")).resolve().parent
candidates = [
    Path("../shared/data/breakhis_100x_half"),
    here.parents[1] / "shared" / "data" / "breakhis_100x_half",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
if root.is_dir():
    data = load_breakhis(root, image_size=(32, 48))
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=300, image_size=(32, 32), random_state=0)
names = np.asarray(data.target_names)
X, y, groups = data.images, names[data.target], data.groups
print(f"{len(X)} images, {len(np.unique(groups))} patients, classes {names.tolist()}")

# %%
# Fit both models on the same folds
# ---------------------------------
# ``cv=3`` with groups is a stratified group k-fold: three folds of whole
# patients. ``return_estimator=True`` keeps the fitted models (for Grad-CAM in a
# report); ``random_state`` fixes the folds and the bootstrap.
models = {
    "cnn": CNNClassifier(
        filters=(8, 16),
        dense_units=(16,),
        epochs=3,
        early_stopping=False,
        random_state=0,
    ),
    "resnet": ResNetClassifier(
        filters=(8, 16),
        blocks_per_stage=1,
        epochs=3,
        early_stopping=False,
        random_state=0,
    ),
}
result = compare_models(models, X, y, groups=groups, cv=3, random_state=0)
print(result.cv_description)

# %%
# The table: mean ± sd over folds, and a patient-bootstrap interval
# -----------------------------------------------------------------
# ``summary()`` returns a table (``pandas.DataFrame(table)`` works too). The
# interval is computed on the pooled out-of-fold predictions by resampling the
# patients; ``unit`` says so.
table = result.summary()
for model, metric, mean, sd, low, high, unit in zip(
    table["model"],
    table["metric"],
    table["mean"],
    table["sd"],
    table["ci_low"],
    table["ci_high"],
    table["unit"],
):
    if metric in (
        "roc_auc",
        "accuracy",
        "sensitivity_at_90_specificity",
        "patient_accuracy",
    ):
        print(
            f"{model:7s} {metric:30s} {mean:.3f} ± {sd:.3f}   "
            f"95% CI {low:.3f} to {high:.3f} (by {unit})"
        )

# %%
# The paired comparison, in words
# -------------------------------
comparison = result.compare("resnet", "cnn")
print(comparison.sentence)
print(comparison.bootstrap_sentence)
print(comparison.delong_sentence)

# %%
# ROC curves and the reliability diagram
# --------------------------------------
fig, (ax_roc, ax_cal) = plt.subplots(1, 2, figsize=(11, 5))
result.plot_roc(ax=ax_roc)
result.plot_calibration(ax=ax_cal)
fig.tight_layout()
plt.show()

# %%
# Which patients fail?
# --------------------
# The per-patient table is sorted worst first: a patient whose images are all
# misclassified is a finding in itself (a rare tumour type, a staining outlier).
patients = result.patient_table("cnn")
for patient, label, n_images, score, share in patients.rows()[:5]:
    print(
        f"patient {patient}: {label}, {n_images} images, mean "
        f"p(malignant) {score:.2f}, {share:.0%} correct"
    )

# %%
# ``result.write_report("report/", X=X, explain="gradcam")`` writes all of this,
# with thumbnails of the worst-scored images, as an HTML page (with
# ``return_estimator=True`` for Grad-CAM); ``skbreast benchmark`` does the same
# from the command line, with ``--protocol spanhol`` for the BreakHis paper's
# five random 70/30 patient splits.
