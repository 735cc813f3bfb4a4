"""
IDC slide maps: a held-out patient's slide, and the tumour extent per patient
=============================================================================

A pathologist does not read a table of patches: they read the slide. IDC patches
carry their position in the patient's whole-slide image in their file names
(``x`` and ``y`` of :func:`skbreast.datasets.load_idc`), so a patient's patches
can be laid back out as a map of the slide. This example trains a small
:class:`skbreast.CNNClassifier` on some IDC patients, passing the patients to
``fit``; predicts the patches of every *other* patient; draws one held-out
patient's slide map, the pathologists' labels beside the predicted probability,
with :func:`skbreast.plotting.plot_slide_map`; and compares, patient by patient,
the share of the slide the model calls IDC with the true share, the tumour
extent that a report would state.

It reads the 10,231-patch, 195-patient IDC subset beside the project
(``../shared/data/idc_subset``) and trains a small network on 60 patients for 10
epochs, so that it runs in about a minute on two CPU cores: read the maps as a
demonstration of the method, not of the model. The subset holds a random ~5% of
each patient's patches, so the maps are sparse. When the folder is absent, the
example falls back to the synthetic patches of
:func:`skbreast.datasets.make_patches`, laid out on a grid around a "tumour".
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from skbreast import CNNClassifier
from skbreast.datasets import load_idc, make_patches
from skbreast.plotting import plot_slide_map

start = time.perf_counter()
PATCH = 50  # IDC patches are 50x50 pixels

# %%
# Patches, patients and positions
# -------------------------------
# The data sit beside the repository: ``../shared`` from its root, which is
# ``../../shared`` from this folder (sphinx-gallery runs examples from here).
here = Path(globals().get("__file__", "plot_idc_slide_map.py")).resolve().parent
candidates = [
    Path("../shared/data/idc_subset/IDC_regular_ps50_idx5"),
    here.parents[1] / "shared" / "data" / "idc_subset" / "IDC_regular_ps50_idx5",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
if root.is_dir():
    data = load_idc(root)  # images, target (1 = IDC), groups (patients), x, y
    X, y, groups = data.images, data.target, data.groups
    coords = np.column_stack([data.x, data.y])
    n_train_patients = 60
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=800, image_size=(32, 32), random_state=0)
    X, y, groups = data.images, data.target, data.groups
    # Each patient's patches on a square grid, the malignant ones nearest its
    # centre: a "tumour" in the middle of the slide.
    coords = np.zeros((len(y), 2), dtype=int)
    for patient in np.unique(groups):
        members = np.flatnonzero(groups == patient)
        side = int(np.ceil(np.sqrt(len(members))))
        cells = np.stack(np.divmod(np.arange(side * side), side), axis=1)
        order = np.argsort(np.hypot(*(cells - (side - 1) / 2).T), kind="stable")
        ranked = members[np.argsort(-y[members], kind="stable")]  # malignant first
        coords[ranked] = cells[order[: len(members)]][:, ::-1] * PATCH
    n_train_patients = 10
patients = np.unique(groups)
print(
    f"{len(X)} patches of {len(patients)} patients; {y.mean():.0%} "
    f"{data.target_names[1]}"
)

# %%
# Train on some patients, hold out all the others
# -----------------------------------------------
# The split is by patient. ``groups`` reaches ``fit`` as well: early stopping then
# holds out whole training patients to choose its epoch, never a share of the
# training patients' own patches.
rng = np.random.default_rng(0)
train_patients = rng.choice(patients, size=n_train_patients, replace=False)
train = np.isin(groups, train_patients)
test = ~train
clf = CNNClassifier(
    filters=(16, 32, 64),
    dense_units=(64,),
    class_weight="balanced",  # about a quarter of the patches are positive
    epochs=10,
    random_state=0,
)
clf.fit(X[train], y[train], groups=groups[train])
proba = clf.predict_proba(X[test])[:, 1]
pred = (proba >= 0.5).astype(int)
y_test, groups_test, coords_test = y[test], groups[test], coords[test]
print(
    f"trained on {train.sum()} patches of {n_train_patients} patients; "
    f"{test.sum()} patches of {len(np.unique(groups_test))} held-out patients, "
    f"ROC AUC {roc_auc_score(y_test, proba):.3f}"
)

# %%
# The slide map of a held-out patient
# -----------------------------------
# Left the pathologists' labels (1 = IDC), right the predicted probability of
# IDC, each patch at its place in the slide; grey cells hold no patch of the
# subset. The patient shown is the held-out one with the most patches among
# those whose slide is between 20% and 80% IDC.
test_patients, counts = np.unique(groups_test, return_counts=True)
shares = np.array([y_test[groups_test == p].mean() for p in test_patients])
mixed = (shares >= 0.2) & (shares <= 0.8)
if not mixed.any():  # no such patient: take the largest slide
    mixed[:] = True
shown = test_patients[mixed][np.argmax(counts[mixed])]
one = groups_test == shown
fig = plot_slide_map(
    coords_test[one],
    proba[one],
    y_test[one],
    patch_size=PATCH,
    title=f"patient {shown}, held out: {one.sum()} patches",
    label="P(IDC)",
)
plt.show()

# %%
# The tumour extent, patient by patient
# -------------------------------------
# The share of a patient's patches that are IDC is a rough measure of the tumour
# extent on the slide. Predicted share (patches at P(IDC) >= 0.5) against true
# share, one point per held-out patient, with Pearson's correlation.
true_extent = np.array([y_test[groups_test == p].mean() for p in test_patients])
pred_extent = np.array([pred[groups_test == p].mean() for p in test_patients])
r, p_value = pearsonr(true_extent, pred_extent)
print(
    f"IDC extent over {len(test_patients)} held-out patients: Pearson r = "
    f"{r:.2f} (p = {p_value:.2g}); mean absolute error "
    f"{np.abs(pred_extent - true_extent).mean():.2f}"
)

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.scatter(true_extent, pred_extent, s=12 + counts, alpha=0.6)
ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
ax.set_xlim(-0.02, 1.02)
ax.set_ylim(-0.02, 1.02)
ax.set_xlabel("true share of IDC patches")
ax.set_ylabel("predicted share of IDC patches")
ax.set_title(f"IDC extent per held-out patient (r = {r:.2f})")
ax.set_aspect("equal")
fig.tight_layout()
plt.show()
print(f"done in {time.perf_counter() - start:.0f} s")

# %%
# A point is a patient, sized by its number of patches: a patient with few
# patches has a noisy extent either way. Points above the diagonal are
# over-called slides. For a whole slide as a scanner stores it, tiled and
# predicted tile by tile, see :doc:`/auto_examples/plot_whole_slide`.
