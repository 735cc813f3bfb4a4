"""
Training on imbalanced data: class weights, under-sampling and SMOTE
====================================================================

IDC patches are 28% positive. This compares four ways to train
:class:`skbreast.CNNClassifier` on such data, by recall, precision, F1 and ROC AUC,
cross-validated by patient:

* plain training;
* ``class_weight="balanced"``;
* ``sampler=RandomUnderSampler()``: a fresh balanced draw of *indices* every epoch,
  no image copied (works for file paths too);
* SMOTE in an imbalanced-learn pipeline: SMOTE synthesises new images, so it needs
  flattened images (``input_shape`` tells the estimator how to reshape them).

The data is the built-in synthetic sample with IDC's class balance. For the
PatchCamelyon subset, load it with ``load_image_folder(".../pcam_subset/train",
image_size=(32, 32))`` and subsample it to 28% positives.
"""

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.model_selection import StratifiedGroupKFold, cross_validate

from skbreast import CNNClassifier
from skbreast.datasets import make_patches

data = make_patches(n_samples=600, image_size=(32, 32), random_state=0)
X, y, groups = data.images, data.target, data.groups
flat = X.reshape(len(X), -1)  # uint8 stays uint8
print(f"{y.mean():.0%} malignant")

params = dict(epochs=8, random_state=0)
candidates = {
    "plain": (CNNClassifier(**params), X),
    "class_weight": (CNNClassifier(**params, class_weight="balanced"), X),
    "under-sampled": (CNNClassifier(**params, sampler=RandomUnderSampler()), X),
    "SMOTE": (
        make_pipeline(
            SMOTE(random_state=0), CNNClassifier(**params, input_shape=(32, 32, 3))
        ),
        flat,
    ),
}

# %%
# Cross-validate each by patient and compare.
scoring = ["recall", "precision", "f1", "roc_auc"]
cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
print(f"{'':>14} " + " ".join(f"{s:>9}" for s in scoring))
for name, (model, data_X) in candidates.items():
    result = cross_validate(model, data_X, y, groups=groups, cv=cv, scoring=scoring)
    means = [np.mean(result[f"test_{s}"]) for s in scoring]
    print(f"{name:>14} " + " ".join(f"{m:9.3f}" for m in means))
