"""
Training on imbalanced data: class weights, under-sampling and SMOTE
====================================================================

IDC patches are 28% positive. This compares four ways to train
:class:`skbreast.CNNClassifier` on such data, by recall, precision, F1, ROC AUC and
balanced accuracy on held-out patients:

* plain training;
* ``class_weight="balanced"``: errors on the rare class cost more;
* ``sampler=RandomUnderSampler()``: a fresh balanced draw of *indices* every epoch,
  no image copied (works for file paths too);
* SMOTE in an imbalanced-learn pipeline: SMOTE synthesises new images, so it needs
  flattened images (``input_shape`` tells the estimator how to reshape them).

The data is the built-in synthetic sample with IDC's class balance, kept small
(24x24 pixels, a small CNN, 8 epochs) so that the example runs in seconds. The
last section shows how to run the same comparison on real PatchCamelyon patches.
"""

import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold

from skbreast import CNNClassifier
from skbreast.datasets import make_patches

data = make_patches(n_samples=600, image_size=(24, 24), random_state=0)
X, y, groups = data.images, data.target, data.groups
print(
    f"{len(X)} patches from {len(np.unique(groups))} patients, {y.mean():.0%} malignant"
)

# %%
# Hold out a third of the patients (stratified, so both sides keep the imbalance).
cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
train, test = next(cv.split(X, y, groups))
print(f"train {len(train)} patches, test {len(test)} patches")

# %%
# The candidates share one small CNN and its training settings. SMOTE blends the
# pixels of two patches, so it gets flattened images *as floats*: on uint8 arrays,
# imbalanced-learn subtracts neighbours in uint8 arithmetic, which wraps around.
params = dict(
    filters=(8, 16),
    dense_units=(32,),
    epochs=8,
    early_stopping=False,
    random_state=0,
)
flat = X.reshape(len(X), -1).astype(np.float32)
candidates = {
    "plain": (CNNClassifier(**params), X),
    "class_weight": (CNNClassifier(**params, class_weight="balanced"), X),
    "under-sampled": (
        CNNClassifier(**params, sampler=RandomUnderSampler(random_state=0)),
        X,
    ),
    "SMOTE": (
        make_pipeline(
            SMOTE(random_state=0), CNNClassifier(**params, input_shape=X.shape[1:])
        ),
        flat,
    ),
}

# %%
# Fit each on the training patients and score it on the held-out ones.
metrics = {
    "recall": recall_score,
    "precision": precision_score,
    "F1": f1_score,
    "balanced accuracy": balanced_accuracy_score,
}
results = {}
for name, (model, data_X) in candidates.items():
    model.fit(data_X[train], y[train])
    pred = model.predict(data_X[test])
    scores = {m: f(y[test], pred) for m, f in metrics.items()}
    scores["ROC AUC"] = roc_auc_score(y[test], model.predict_proba(data_X[test])[:, 1])
    results[name] = scores

columns = list(next(iter(results.values())))
print(f"{'':>14} " + " ".join(f"{c[:9]:>9}" for c in columns))
for name, scores in results.items():
    print(f"{name:>14} " + " ".join(f"{scores[c]:9.3f}" for c in columns))

# %%
# Plot the comparison.
fig, ax = plt.subplots(figsize=(8, 3.5))
width = 0.8 / len(results)
for i, (name, scores) in enumerate(results.items()):
    ax.bar(
        np.arange(len(columns)) + i * width, list(scores.values()), width, label=name
    )
ax.set_xticks(np.arange(len(columns)) + 0.4 - width / 2, columns)
ax.set_ylim(0, 1.15)
ax.legend(loc="upper center", ncols=len(results), fontsize="small", frameon=False)
ax.set_title("Scores on held-out (synthetic) patients")
fig.tight_layout()
plt.show()

# %%
# On real data
# ------------
# ``benchmarks/bench_imbalance_pcam.py`` in the source repository runs this
# comparison, plus ``sampler=RandomOverSampler()``, on real PatchCamelyon patches:
# 2,000 tumour-free and 200 tumour patches (9% positive) drawn from the
# deduplicated training folder of the project's PCam subset, tested on its
# deduplicated validation folder. Load such a folder with::
#
#     from skbreast.datasets import load_image_folder
#
#     data = load_image_folder("../shared/data/pcam_subset/train",
#                              image_size=(48, 48), deduplicate=True)
#
# or pass ``return_paths=True`` and give the estimators ``data.filenames``: they
# decode the files batch by batch (SMOTE needs the decoded pixels). Measured with
# the benchmark's defaults (48x48 pixels, CNN with filters (8, 16, 32), every model
# trained on 15 epochs' worth of images, seed 0) on 1,650 validation patches with
# the training prevalence (150 positive)::
#
#                   recall  precision    F1  ROC AUC  balanced acc.
#     plain           0.00       0.00  0.00     0.78       0.50
#     class_weight    0.57       0.14  0.23     0.69       0.61
#     under-sampled   0.78       0.16  0.27     0.78       0.69
#     over-sampled    0.76       0.21  0.32     0.81       0.73
#     SMOTE           0.55       0.17  0.26     0.68       0.64
#
# Plain training never predicts a tumour at the 0.5 threshold, although it ranks
# patches about as well as under-sampling does (ROC AUC). Random over- and
# under-sampling do best on recall, F1, ROC AUC and balanced accuracy; class
# weights and SMOTE's blended images help less. At 9% prevalence every method's
# precision stays low: tune the decision threshold (see
# :ref:`sphx_glr_auto_examples_plot_threshold_tuning.py`) for the trade-off you
# need.
