"""
Fine-tuning real ImageNet weights on PatchCamelyon
==================================================

:class:`skbreast.TransferClassifier` fine-tunes a pretrained backbone: the new
head first, on the frozen backbone, then the whole network at a tenth of the
learning rate, every batch normalisation layer kept in inference mode. Here the
backbone is a real ImageNet MobileNetV2 (the weights file beside the project,
``../shared/data/weights``), trained on 400 PatchCamelyon patches and scored on
400 others, against two controls at the same epochs:

- the same network from random weights (``weights=None``), and
- a linear probe on the frozen ImageNet features
  (:class:`skbreast.LinearProbeClassifier`).

The images are given as file paths: the estimators decode them batch by batch.
A few hundred patches and three epochs keep the example under a minute; the
benchmark with all 19,171 training patches is in ``benchmarks/README.md`` (see
:ref:`pretrained_measured`). When the shared folder is absent, the example runs
on the synthetic patches of :func:`skbreast.datasets.make_patches`, with a
randomly initialised backbone standing in for the weights.
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import RocCurveDisplay, roc_auc_score

from skbreast import LinearProbeClassifier, TransferClassifier
from skbreast.datasets import load_image_folder, make_patches

# %%
# Patches and weights
# -------------------
# The data sit beside the repository: ``../shared`` from its root, which is
# ``../../shared`` from this folder (sphinx-gallery runs examples from here).
here = Path(globals().get("__file__", "plot_transfer_learning.py")).resolve().parent
candidates = [Path("../shared/data"), here.parents[1] / "shared" / "data"]
shared = next((p for p in candidates if p.is_dir()), candidates[0])
weights = shared / "weights" / "mobilenet_v2_1.0_imagenet_notop.weights.h5"
rng = np.random.default_rng(0)


def sample(folder, n_per_class):
    """File paths of ``n_per_class`` patches of each class, drawn at random."""
    found = load_image_folder(folder, return_paths=True, deduplicate=True)
    chosen = np.concatenate(
        [
            rng.choice(np.flatnonzero(found.target == k), n_per_class, replace=False)
            for k in (0, 1)
        ]
    )
    return found.filenames[chosen], found.target[chosen]


if weights.is_file():
    X_train, y_train = sample(shared / "pcam_subset" / "train", 200)
    X_test, y_test = sample(shared / "pcam_subset" / "valid", 200)
    pretrained = str(weights)
else:
    print(f"{weights} not found: synthetic patches and random weights instead.")
    data = make_patches(n_samples=400, image_size=(32, 32), random_state=0)
    X_train, y_train = data.images[::2], data.target[::2]
    X_test, y_test = data.images[1::2], data.target[1::2]
    pretrained = None
print(f"{len(X_train)} training and {len(X_test)} test patches")

# %%
# Fine-tuned, from random weights, and a linear probe
# ---------------------------------------------------
# Three epochs each: the ImageNet model trains its head for one, then fine-tunes
# for two. ``backbone_weights_`` says which weights it started from (the model
# card of a saved model keeps the same).
models = {
    "ImageNet, fine-tuned": TransferClassifier(
        "mobilenetv2",
        weights=pretrained,
        epochs=3,
        early_stopping=False,
        random_state=0,
    ),
    "random weights": TransferClassifier(
        "mobilenetv2", weights=None, epochs=3, early_stopping=False, random_state=0
    ),
}
if pretrained:
    models["ImageNet, linear probe"] = LinearProbeClassifier(
        "mobilenetv2", weights=pretrained, cv=3, random_state=0
    )
scores = {}
fig, ax = plt.subplots(figsize=(5, 5))
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)[:, 1]
    scores[name] = roc_auc_score(y_test, proba)
    print(f"{name}: ROC AUC {scores[name]:.3f} (fit {seconds:.0f} s)")
    RocCurveDisplay.from_predictions(y_test, proba, name=name, ax=ax)
print(models["ImageNet, fine-tuned"].backbone_weights_)
ax.plot([0, 1], [0, 1], ":", color="grey")
ax.set_title("PatchCamelyon, 400 training patches")
plt.show()

# %%
# What to read here
# -----------------
# With a few hundred patches the pretrained features carry the model: the probe
# and the fine-tuned network both leave the same network from random weights far
# behind, and fine-tuning has too few images to pull clearly ahead of the probe.
# The benchmark measures all three with all of PCam's training patches and on
# IDC patients.
