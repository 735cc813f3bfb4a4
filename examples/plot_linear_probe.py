"""
A linear probe on pretrained features, with cached embeddings
=============================================================

:class:`skbreast.ImageEmbedder` turns images into feature vectors with a frozen
backbone; followed by a standardisation and a logistic regression it is a *linear
probe*, the standard way to judge a pretrained representation. Here the backbone
is a small ResNet trained on the patches of some patients (a stand-in for a
network pretrained on a large histology set), and the probe is scored on *other*
patients, against the same network with random weights.

With ``memory=``, embeddings are cached per image, keyed by the backbone's weights
and the image's content: the grid search over the probe's ``C`` below embeds every
image once, and running it again embeds nothing. The data is the package's
synthetic sample data, :func:`skbreast.datasets.make_patches`, kept small so that
the example runs in seconds; on real data, use for example
``ImageEmbedder("resnet50", weights="imagenet", image_size=224)`` or a foundation
model (see the user guide, :ref:`pretrained`).
"""

import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbreast import ResNetClassifier
from skbreast.datasets import make_patches
from skbreast.embedding import ImageEmbedder
from skbreast.models import build_resnet

# %%
# Pretraining patients and probe patients
# ---------------------------------------
# The first half of the patients pretrain the backbone; the probe never sees them.
data = make_patches(n_samples=300, image_size=(32, 32), random_state=0)
X, y, groups = data.images, data.target, data.groups
patients = np.unique(groups)
pretrain = np.isin(groups, patients[: len(patients) // 2])
network = ResNetClassifier(
    filters=(8, 16), blocks_per_stage=1, epochs=6, early_stopping=False, random_state=0
).fit(X[pretrain], y[pretrain])

# %%
# Probes on pretrained and on random features
# -------------------------------------------
# The fitted classifier is the backbone (its penultimate layer);
# :class:`~sklearn.frozen.FrozenEstimator` keeps the search's clones from
# unfitting it. The random backbone is the same architecture, freshly initialised,
# given as a ``keras.Model``.
random_network = build_resnet((32, 32, 3), filters=(8, 16), blocks_per_stage=1, seed=1)
random_backbone = random_network.get_layer("backbone")  # takes [0, 1] images
memory = tempfile.mkdtemp()
grid = {"logisticregression__C": np.logspace(-3, 1, 4)}
Xp, yp, gp = X[~pretrain], y[~pretrain], groups[~pretrain]
scores, times = {}, {}
for name, backbone in [
    ("pretrained", FrozenEstimator(network)),
    ("random", random_backbone),
]:
    probe = make_pipeline(
        ImageEmbedder(backbone, memory=memory),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    search = GridSearchCV(probe, grid, cv=GroupKFold(3), scoring="roc_auc")
    for run in ("first", "second"):
        start = time.perf_counter()
        search.fit(Xp, yp, groups=gp)
        times[name, run] = time.perf_counter() - start
    scores[name] = search.cv_results_["mean_test_score"]
    print(
        f"{name} features: best C {search.best_params_['logisticregression__C']:g}, "
        f"patient-split ROC AUC {search.best_score_:.3f}; search "
        f"{times[name, 'first']:.1f} s, again with the cache "
        f"{times[name, 'second']:.1f} s"
    )

# %%
# The probe's ROC AUC along the grid
# ----------------------------------
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, values in scores.items():
    ax.semilogx(grid["logisticregression__C"], values, marker="o", label=name)
ax.set_xlabel("C of the logistic regression")
ax.set_ylabel("mean ROC AUC (GroupKFold by patient)")
ax.legend(title="backbone")
fig.tight_layout()
plt.show()
