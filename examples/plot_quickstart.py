"""
Quickstart: train and evaluate a CNN on IDC patients
====================================================

Fit :class:`skbreast.CNNClassifier` on real breast histopathology, the IDC
(invasive ductal carcinoma) patches, split by patient so that no patient's
patches sit on both sides, and report the clinical metrics.

IDC is the package's reference data set: 50x50 RGB patches of whole-slide images,
each labelled IDC-positive or not, and the patient of every patch in its file
name (:func:`skbreast.datasets.load_idc` returns it as ``groups``). This example
reads the 10,231-patch, 195-patient subset beside the project
(``../shared/data/idc_subset``), keeps 48 patients and trains a small network
for 5 epochs, so that it runs in about a minute on two CPU cores: read the
numbers as a demonstration, not as the model's accuracy. For a real run, use
every patient and drop the ``filters``, ``dense_units`` and ``epochs`` settings
to train the default, larger network (up to 200 epochs with early stopping).
When the folder is absent, the example falls back to the synthetic patches of
:func:`skbreast.datasets.make_patches`.
"""

import time
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from skbreast import CNNClassifier
from skbreast.datasets import load_idc, make_patches

start = time.perf_counter()

# %%
# Load the patches and their patients
# -----------------------------------
# The data sit beside the repository: ``../shared`` from its root, which is
# ``../../shared`` from this folder (sphinx-gallery runs examples from here).
here = Path(globals().get("__file__", "plot_quickstart.py")).resolve().parent
candidates = [
    Path("../shared/data/idc_subset/IDC_regular_ps50_idx5"),
    here.parents[1] / "shared" / "data" / "idc_subset" / "IDC_regular_ps50_idx5",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
if root.is_dir():
    data = load_idc(root)  # images, target (1 = IDC), groups (patients), x, y
    # A random 48 of the 195 patients keeps the example fast.
    rng = np.random.default_rng(0)
    chosen = rng.choice(np.unique(data.groups), size=48, replace=False)
    keep = np.isin(data.groups, chosen)
    X, y, groups = data.images[keep], data.target[keep], data.groups[keep]
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=600, image_size=(32, 32), random_state=0)
    X, y, groups = data.images, data.target, data.groups
print(
    f"{len(X)} patches of {X.shape[1:]} from {len(np.unique(groups))} patients; "
    f"{y.mean():.0%} {data.target_names[1]}"
)

# %%
# Split by patient
# ----------------
# Neighbouring patches of one slide overlap and every patch of a patient shares
# its stain and scanner: an image-level split would leak. A quarter of the
# patients are held out for testing.
train, test = next(
    GroupShuffleSplit(test_size=0.25, random_state=0).split(X, y, groups=groups)
)
print(
    f"train: {len(train)} patches of {len(np.unique(groups[train]))} patients; "
    f"test: {len(test)} patches of {len(np.unique(groups[test]))} other patients"
)

# %%
# Fit, passing the patients
# -------------------------
# ``groups`` reaches ``fit``: early stopping then holds out whole *training*
# patients (``validation_groups_``) to choose the best epoch. Without it, the
# validation images would come from the patients the model trains on, and the
# chosen epoch would reward memorising patients, the leak the split above avoids.
# ``class_weight="balanced"`` weighs the 28% IDC-positive patches up, so that a
# short training does not settle on calling every patch negative.
clf = CNNClassifier(
    filters=(16, 32),
    dense_units=(32,),
    class_weight="balanced",
    epochs=5,
    random_state=0,
    verbose=0,
)
clf.fit(X[train], y[train], groups=groups[train])
validation = clf.validation_groups_
print(
    f"trained {clf.n_iter_} epochs; early stopping held out "
    f"{0 if validation is None else len(validation)} training patients"
)

# %%
# Evaluate on the held-out patients
# ---------------------------------
proba = clf.predict_proba(X[test])[:, 1]
pred = clf.predict(X[test])
print(f"ROC AUC: {roc_auc_score(y[test], proba):.3f}")
print(confusion_matrix(y[test], pred))
print(classification_report(y[test], pred, target_names=data.target_names))
print(f"done in {time.perf_counter() - start:.0f} s")

# %%
# One test split of a dozen patients is a rough estimate. Cross-validate by
# patient (``StratifiedGroupKFold``), or compare models with intervals that
# resample patients: :doc:`/auto_examples/plot_compare_models` and :ref:`comparing`.
