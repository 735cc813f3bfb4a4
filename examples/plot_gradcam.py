"""
Grad-CAM: where does the network look?
======================================

Train a :class:`skbreast.CNNClassifier` and a :class:`skbreast.ResNetClassifier` on
the built-in sample patches, then show with :func:`skbreast.inspection.gradcam` which
regions drove each prediction: red is strong evidence for the predicted class.

The CNN reads its last convolution layer through a flatten + dense head, so its map
uses the HiResCAM rule (gradient times activation per location); the ResNet averages
its backbone's feature map, where that rule and classic Grad-CAM agree. Both are
chosen by ``method="auto"``.

The patches are *synthetic* (:func:`skbreast.datasets.make_patches`): malignant ones
have more, larger and darker nuclei, so the heat should sit on the nuclei.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets import make_patches
from skbreast.inspection import gradcam, overlay_gradcam

data = make_patches(n_samples=600, image_size=(50, 50), random_state=0)
train, test = next(
    GroupShuffleSplit(test_size=0.25, random_state=0).split(
        data.images, data.target, groups=data.groups
    )
)

# %%
# Two small models, a few epochs each: enough to learn the nuclei cues.
models = {
    "CNN": CNNClassifier(epochs=8, random_state=0),
    "ResNet": ResNetClassifier(
        filters=(16, 32), blocks_per_stage=1, epochs=8, random_state=0
    ),
}
for name, clf in models.items():
    clf.fit(data.images[train], data.target[train])
    accuracy = clf.score(data.images[test], data.target[test])
    print(f"{name}: {clf.n_iter_} epochs, held-out accuracy {accuracy:.3f}")

# %%
# Heatmaps for four malignant and four benign held-out patches.
y_test = data.target[test]
picks = np.concatenate(
    [np.flatnonzero(y_test == 1)[:4], np.flatnonzero(y_test == 0)[:4]]
)
images = data.images[test][picks]

fig, axes = plt.subplots(3, len(picks), figsize=(2 * len(picks), 6.4))
for j, image in enumerate(images):
    axes[0, j].imshow(image)
    axes[0, j].set_title(data.target_names[y_test[picks[j]]], fontsize=9)
for i, (name, clf) in enumerate(models.items(), start=1):
    heat = gradcam(clf, images)
    proba = clf.predict_proba(images)[:, 1]
    for j, overlay in enumerate(overlay_gradcam(images, heat)):
        axes[i, j].imshow(overlay)
        axes[i, j].set_title(f"{name} p={proba[j]:.2f}", fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("Grad-CAM: top row images, then CNN and ResNet heatmaps")
fig.tight_layout()
plt.show()
