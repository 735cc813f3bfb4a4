"""Pretrained features: :class:`ImageEmbedder`, a backbone as a transformer.

``ImageEmbedder`` turns images (arrays or file paths) into one float32 vector each,
with a keras.applications ResNet, a ``.keras`` file, a keras-hub preset, any
``keras.Model``, a fitted skbreast classifier or a callable (e.g. a PyTorch
foundation model). Followed by ``StandardScaler`` and ``LogisticRegression`` it is a
linear probe; with ``memory=`` a search over the head embeds every image once.
:class:`LinearProbeClassifier` is that probe as one classifier, with ``C`` tuned
inside the training data, which saves, exports and serves like the others.
"""

from skbreast.embedding._embedder import ImageEmbedder
from skbreast.embedding._probe import LinearProbeClassifier

__all__ = ["ImageEmbedder", "LinearProbeClassifier"]
