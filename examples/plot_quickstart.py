"""
Quickstart: train and evaluate a CNN on histopathology patches
===============================================================

Fit :class:`skbreast.CNNClassifier` on the built-in sample data, split by patient so
that no patient's patches sit on both sides, and report the clinical metrics.

The sample data is *synthetic* (:func:`skbreast.datasets.make_patches`), and small
(32x32 pixels) with a small network, so that this runs anywhere in seconds. For real
data, replace the loading line with, for example,
``load_breakhis("BreaKHis_v1", image_size=(50, 50))`` or ``load_idc("IDC_regular")``,
and drop the ``filters``, ``dense_units`` and ``epochs`` settings to train the
default, larger network (up to 200 epochs with early stopping).
"""

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from skbreast import CNNClassifier
from skbreast.datasets import make_patches

data = make_patches(n_samples=600, image_size=(32, 32), random_state=0)
print(
    f"{len(data.images)} patches of {data.images.shape[1:]} from "
    f"{len(np.unique(data.groups))} patients; {data.target.mean():.0%} malignant"
)

# %%
# Split by patient: patches of one patient are near-duplicates, so an image-level
# split would leak.
train, test = next(
    GroupShuffleSplit(test_size=0.25, random_state=0).split(
        data.images, data.target, groups=data.groups
    )
)

clf = CNNClassifier(
    filters=(16, 32, 64), dense_units=(64,), epochs=10, random_state=0, verbose=0
)
clf.fit(data.images[train], data.target[train])
print(f"trained {clf.n_iter_} epochs")

# %%
# Evaluate on the held-out patients.
proba = clf.predict_proba(data.images[test])[:, 1]
pred = clf.predict(data.images[test])
print(f"ROC AUC: {roc_auc_score(data.target[test], proba):.3f}")
print(confusion_matrix(data.target[test], pred))
print(classification_report(data.target[test], pred, target_names=data.target_names))
