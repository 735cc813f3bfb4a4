"""
Tuning the CNN architecture and learning rate with GridSearchCV
===============================================================

Every architecture setting of :class:`skbreast.CNNClassifier` is a constructor
parameter, so :class:`~sklearn.model_selection.GridSearchCV` can tune the network
like any other scikit-learn estimator. Here we search the number of convolution
blocks and the learning rate, splitting the data **by patient** with
:class:`~sklearn.model_selection.GroupKFold` so that no patient's patches are used
for both training and scoring a candidate.

The data is the package's *synthetic* sample data,
:func:`skbreast.datasets.make_patches`, kept small so the example runs in seconds.
For real data, load it with, for example,
``load_breakhis("BreaKHis_v1", image_size=(50, 50))`` or
``load_idc("IDC_regular_ps50_idx5")``, pass ``data.groups`` as below, and use more
epochs (early stopping chooses how many).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold

from skbreast import CNNClassifier
from skbreast.datasets import make_patches

# %%
# Sample data with patient groups
# -------------------------------
# ``groups`` holds the patient of every patch.
data = make_patches(n_samples=300, image_size=(32, 32), random_state=0)
X, y, groups = data.images, data.target, data.groups
print(
    f"{len(X)} patches from {len(np.unique(groups))} patients, {y.mean():.0%} malignant"
)

# %%
# The search
# ----------
# ``filters`` sets one convolution block per entry. A fixed ``random_state`` gives
# every candidate the same initial conditions, so the grid compares architectures
# rather than seeds. The epochs are few to keep the example fast.
clf = CNNClassifier(dense_units=(32,), epochs=5, early_stopping=False, random_state=0)
param_grid = {
    "filters": [(8,), (8, 16)],
    "learning_rate": [1e-3, 3e-3],
}
grid = GridSearchCV(clf, param_grid, cv=GroupKFold(n_splits=3), scoring="roc_auc")
grid.fit(X, y, groups=groups)

print("best parameters:", grid.best_params_)
print(f"best patient-split ROC AUC: {grid.best_score_:.3f}")

# %%
# All candidates
# --------------
# ``cv_results_`` has one entry per candidate; arrange the mean scores as a
# filters x learning-rate table.
res = grid.cv_results_
rows = [str(f) for f in param_grid["filters"]]
cols = param_grid["learning_rate"]
table = np.empty((len(rows), len(cols)))
for params, score in zip(res["params"], res["mean_test_score"]):
    table[rows.index(str(params["filters"])), cols.index(params["learning_rate"])] = (
        score
    )
for params, score, std in zip(
    res["params"], res["mean_test_score"], res["std_test_score"]
):
    print(f"{params}: ROC AUC {score:.3f} +/- {std:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
im = ax.imshow(table, cmap="viridis")
ax.set_xticks(range(len(cols)), [f"{lr:g}" for lr in cols])
ax.set_yticks(range(len(rows)), rows)
ax.set_xlabel("learning_rate")
ax.set_ylabel("filters")
for (i, j), value in np.ndenumerate(table):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="white")
fig.colorbar(im, ax=ax, label="mean ROC AUC (GroupKFold)")
ax.set_title("CNN grid search")
fig.tight_layout()
plt.show()

# %%
# The refitted model
# ------------------
# ``GridSearchCV`` refits the best candidate on all the data; it is a fitted
# :class:`~skbreast.CNNClassifier`.
best = grid.best_estimator_
print(best.predict_proba(X[:3]).round(3))
