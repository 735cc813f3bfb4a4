"""
Loading BreakHis with patient groups for leak-free cross-validation
===================================================================

BreakHis images of one patient are near-duplicates of each other. If a
cross-validation split puts some of a patient's images in training and others
in testing, the model is scored on images it has effectively seen, and every
metric is inflated. :func:`skbreast.datasets.load_breakhis` returns the patient
of every image as ``groups``; passing them to
:class:`~sklearn.model_selection.GroupKFold` keeps each patient on one side of
every split.

This example uses the 319-image BreakHis subset shipped beside the project
(``../shared/data/breakhis_100x_half``). When that folder is absent it falls
back to the package's synthetic patches, :func:`skbreast.datasets.make_patches`.
"""

from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, cross_val_score

from skbreast import CNNClassifier
from skbreast.datasets import load_breakhis, make_patches

# %%
# Load the images at a small size with their patients
# ---------------------------------------------------
# ``image_size`` is (height, width); 700x460 images become 96x64 thumbnails,
# plenty for a quick comparison and light on memory.
# The data sit beside the repository: ``../shared`` from its root, which is
# ``../../shared`` from this folder (sphinx-gallery runs examples from here).
here = Path(globals().get("__file__", "plot_load_breakhis.py")).resolve().parent
candidates = [
    Path("../shared/data/breakhis_100x_half"),
    here.parents[1] / "shared" / "data" / "breakhis_100x_half",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
if root.is_dir():
    data = load_breakhis(root, image_size=(64, 96))
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=300, image_size=(64, 64), random_state=0)

X, y, groups = data.images, data.target, data.groups
print(f"{len(X)} images of shape {X.shape[1:]}, {len(np.unique(groups))} patients")
counts = dict(zip(data.target_names.tolist(), np.bincount(y).tolist(), strict=True))
print("images per class:", counts)

# %%
# Cross-validate a small CNN, splitting by patient
# ------------------------------------------------
clf = CNNClassifier(input_shape=X.shape[1:], epochs=3, random_state=0)
scores = cross_val_score(
    clf, X, y, groups=groups, cv=GroupKFold(n_splits=3), scoring="roc_auc"
)
print(f"ROC AUC per fold: {np.round(scores, 3)}; mean {scores.mean():.3f}")
