"""
Comparing a CNN and a ResNet honestly on IDC patients
=====================================================

"Is the ResNet better than the CNN on *my patients*, and by how much?" A table of
fold means cannot say: with a few dozen patients the spread between folds is as
large as any difference between the models.
:func:`skbreast.model_selection.compare_models` fits both models on the same
patient-disjoint folds and returns a result that answers with the statistics a
reviewer asks for:

- every metric's mean ± sd over folds, and a 95% confidence interval from a
  bootstrap that resamples **patients**, not images;
- a paired comparison: the Nadeau-Bengio corrected t-test over folds, DeLong's
  test on the pooled scores, and a paired patient-bootstrap interval;
- calibration (Brier score, expected calibration error, a reliability diagram),
  sensitivity at 90% specificity, and the patients the model gets wrong.

This example uses the IDC patches beside the project
(``../shared/data/idc_subset``; 195 patients, the package's reference data set),
keeps 36 of the patients and trains tiny models for 3 epochs so that it runs in
about a minute on two CPU cores: read the numbers as a demonstration of the
method, not of the models. When the folder is absent it falls back to the
synthetic patches of :func:`skbreast.datasets.make_patches`. BreakHis works the
same way (:func:`~skbreast.datasets.load_breakhis`), but its shared subset has 17
patients, 5 of them benign: there every estimate spreads by about ±0.15 and no
difference between two reasonable models can be shown. See :ref:`comparing` for
how to read every statistic.
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets import load_idc, make_patches
from skbreast.model_selection import compare_models

start = time.perf_counter()

# %%
# Patches and their patients
# --------------------------
# ``groups`` holds the patient of every patch. It decides the folds (no patient
# on both sides), what the bootstrap resamples, and reaches the estimators' fit,
# where early stopping then holds out whole patients. The data sit beside the
# repository: ``../shared`` from its root, which is ``../../shared`` from this
# folder (sphinx-gallery runs examples from here).
here = Path(globals().get("__file__", "plot_compare_models.py")).resolve().parent
candidates = [
    Path("../shared/data/idc_subset/IDC_regular_ps50_idx5"),
    here.parents[1] / "shared" / "data" / "idc_subset" / "IDC_regular_ps50_idx5",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
if root.is_dir():
    data = load_idc(root)
    # A random 36 of the 195 patients keeps the example fast.
    rng = np.random.default_rng(0)
    chosen = rng.choice(np.unique(data.groups), size=36, replace=False)
    keep = np.isin(data.groups, chosen)
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=300, image_size=(32, 32), random_state=0)
    keep = np.ones(len(data.target), dtype=bool)
names = np.asarray(data.target_names)  # IDC: non_idc, idc
X, y, groups = data.images[keep], names[data.target[keep]], data.groups[keep]
positive = names[1]  # "idc" (or "malignant"): say which label is positive
print(f"{len(X)} patches, {len(np.unique(groups))} patients, classes {names.tolist()}")

# %%
# Fit both models on the same folds
# ---------------------------------
# ``cv=3`` with groups is a stratified group k-fold: three folds of whole
# patients; each fit receives its training patients (here early stopping is off,
# to keep the 3 epochs; with it on, it would hold out whole patients). A quarter
# of the patches are IDC-positive: ``class_weight="balanced"`` weighs them up.
# ``return_estimator=True`` would keep the fitted models (for Grad-CAM in a
# report); ``random_state`` fixes the folds and the bootstrap.
models = {
    "cnn": CNNClassifier(
        filters=(8, 16),
        dense_units=(16,),
        dense_dropout=0.0,  # a 16-unit layer under dropout 0.5 can die in 3 epochs
        class_weight="balanced",
        epochs=3,
        early_stopping=False,
        random_state=0,
    ),
    "resnet": ResNetClassifier(
        filters=(8, 16),
        blocks_per_stage=1,
        class_weight="balanced",
        epochs=3,
        early_stopping=False,
        random_state=0,
    ),
}
result = compare_models(
    models, X, y, groups=groups, cv=3, pos_label=positive, random_state=0
)
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
        f"patient {patient}: {label}, {n_images} patches, mean "
        f"p({positive}) {score:.2f}, {share:.0%} correct"
    )
print(f"done in {time.perf_counter() - start:.0f} s")

# %%
# ``result.write_report("report/", X=X, explain="gradcam")`` writes all of this,
# with thumbnails of the worst-scored images, as an HTML page (with
# ``return_estimator=True`` for Grad-CAM); ``skbreast benchmark --data
# ../shared/data/idc_subset --cv 5`` does the same from the command line on all
# 195 patients (see :ref:`benchmark`), and ``--protocol spanhol`` runs the
# BreakHis paper's five random 70/30 patient splits on BreakHis.
