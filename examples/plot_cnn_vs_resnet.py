"""
Comparing a CNN and a ResNet with patient-level cross-validation
================================================================

:func:`~sklearn.model_selection.cross_validate` scores
:class:`skbreast.CNNClassifier` and :class:`skbreast.ResNetClassifier` on the same
folds, split **by patient** with
:class:`~sklearn.model_selection.StratifiedGroupKFold`, with the metrics that matter
in pathology: ROC AUC and recall (sensitivity, the share of malignant patches
found), plus specificity from :mod:`skbreast.metrics`.

The data is the package's *synthetic* sample data,
:func:`skbreast.datasets.make_patches`, and the networks are tiny so the example runs
in seconds. For real data, load it with, for example,
``load_breakhis("BreaKHis_v1", image_size=(50, 50))``, use the default
architectures and more epochs, or run the whole comparison with
``skbreast benchmark`` (see the user guide).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import (
    StratifiedGroupKFold,
    cross_val_score,
    cross_validate,
)

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets import make_patches
from skbreast.metrics import specificity_scorer

# %%
# Sample data with patient groups
# -------------------------------
data = make_patches(n_samples=300, image_size=(32, 32), random_state=0)
X, y, groups = data.images, data.target, data.groups
print(
    f"{len(X)} patches from {len(np.unique(groups))} patients, {y.mean():.0%} malignant"
)

# %%
# Two small models
# ----------------
# ``class_weight="balanced"`` counters the 72/28 class balance, which otherwise
# pulls recall down.
models = {
    "CNN": CNNClassifier(
        filters=(8, 16),
        dense_units=(32,),
        learning_rate=3e-3,
        epochs=6,
        early_stopping=False,
        class_weight="balanced",
        random_state=0,
    ),
    "ResNet": ResNetClassifier(
        filters=(8, 16),
        blocks_per_stage=1,
        epochs=6,
        early_stopping=False,
        class_weight="balanced",
        random_state=0,
    ),
}

# %%
# Cross-validation by patient
# ---------------------------
# The same ``cv`` object with the same ``groups`` gives both models the same folds,
# so their scores are paired fold by fold.
cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
scoring = {"roc_auc": "roc_auc", "recall": "recall", "specificity": specificity_scorer}
results = {
    name: cross_validate(model, X, y, groups=groups, cv=cv, scoring=scoring)
    for name, model in models.items()
}
for name, res in results.items():
    summary = ", ".join(
        f"{metric} {res[f'test_{metric}'].mean():.3f}" for metric in scoring
    )
    print(f"{name}: {summary} ({res['fit_time'].mean():.1f} s per fit)")

# %%
# For a single metric, :func:`~sklearn.model_selection.cross_val_score` is the
# shorter call:
print(cross_val_score(models["CNN"], X, y, groups=groups, cv=cv, scoring="roc_auc"))

# %%
# Fold-by-fold comparison
# -----------------------
fig, axes = plt.subplots(1, len(scoring), figsize=(9, 3.2), sharey=True)
for ax, metric in zip(axes, scoring):
    for i, (name, res) in enumerate(results.items()):
        scores = res[f"test_{metric}"]
        ax.scatter(np.full(len(scores), i), scores, label=name)
        ax.hlines(scores.mean(), i - 0.2, i + 0.2, color="k")
    ax.set_xticks(range(len(results)), list(results))
    ax.set_title(metric)
    ax.set_xlim(-0.6, len(results) - 0.4)
axes[0].set_ylabel("score per patient-split fold")
axes[0].set_ylim(0, 1.05)
fig.tight_layout()
plt.show()
