"""Transformers on histopathology images: stain normalisation and trivial features.

:class:`StainNormalizer` maps H&E images to the stain colours of reference images
(Macenko, Vahadane or Reinhard). It is a scikit-learn transformer: inside a
:class:`~sklearn.pipeline.Pipeline` before an skbreast classifier, its target is
learnt from the training folds only.

:class:`ColourHistogram` and :class:`Thumbnail` turn images into features that
carry no tissue structure, for the shortcut baselines of
:mod:`skbreast.model_selection`.
"""

from skbreast.preprocessing._features import ColourHistogram, Thumbnail
from skbreast.preprocessing._stain import StainNormalizer

__all__ = ["ColourHistogram", "StainNormalizer", "Thumbnail"]
