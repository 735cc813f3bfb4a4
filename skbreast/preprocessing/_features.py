"""Trivial image features: colour histograms and thumbnails.

They exist to ask one question of a data set: *can the classes be told apart
without looking at tissue structure at all?* A linear model on colour histograms
or on tiny thumbnails that matches a CNN means the CNN may have learnt stain,
scanner or tissue-density cues of the training patients rather than pathology
(see :func:`skbreast.model_selection.colour_histogram_baseline`).

Both take 4-D image arrays, flattened images (with ``input_shape``, or the
estimators' square-image rule) and 1-D arrays of image file paths, decoded one
at a time by the package's decoder so that memory stays flat.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from skbreast.datasets._imageio import (
    as_path_array,
    flat_image_shape,
    is_path_input,
    read_image,
    resize_image,
)

_CHANNEL_NAMES = {1: ("gray",), 3: ("red", "green", "blue")}


def _flat_shape(n_features, input_shape):
    """Return the image shape of a flattened row (the estimators' rule)."""
    shape = None
    if input_shape is not None:
        shape = tuple(int(d) for d in np.ravel(input_shape))
        if len(shape) != 3 or shape[2] not in (1, 3) or min(shape) < 1:
            raise ValueError(
                "input_shape must be (height, width, channels) with 1 or 3 "
                f"channels, got {input_shape!r}."
            )
    return flat_image_shape(n_features, shape)


class _ImageFeatures(TransformerMixin, BaseEstimator):
    """Shared input handling: arrays, flattened rows or file paths, image by image."""

    _parameter_constraints: dict = {"input_shape": ["array-like", None]}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        # Features are always float32, whatever the pixels' dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    def fit(self, X, y=None):
        """Record the input layout and pixel scale; no other state is learnt.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels), \
                (n_samples, n_features) or (n_samples,)
            Images, flattened images, or image file paths.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        if is_path_input(X):
            self.paths_ = True
            self.image_shape_ = None
            self.input_scale_ = 1.0
            return self
        images = self._as_images(X, reset=True)
        self.paths_ = False
        self.image_shape_ = tuple(images.shape[1:])
        high = float(images.max()) if images.size else 0.0
        # Floats in [0, 1] are pixels already scaled; the rule is fixed here so
        # that a batch that happens to be dark is read the same way later.
        self.input_scale_ = 255.0 if images.dtype.kind == "f" and high <= 1.0 else 1.0
        return self

    def transform(self, X):
        """Return the features of every image.

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float32
        """
        check_is_fitted(self)
        if is_path_input(X):
            paths = as_path_array(X)
            return np.stack([self._features(self._read(p)) for p in paths])
        if self.paths_:
            raise ValueError(
                f"{type(self).__name__} was fitted on file paths; transform takes "
                "file paths too."
            )
        images = self._as_images(X, reset=False)
        if images.size == 0:
            return np.zeros((0, self._n_out(images.shape[-1])), np.float32)
        return np.stack([self._features(image) for image in images])

    def _as_images(self, X, *, reset):
        if not hasattr(X, "ndim") and not isinstance(X, (list, tuple)):
            X = np.asarray(X)  # array-likes exposing only __array__
        ndim = np.ndim(X)
        if ndim in (3, 4):
            images = np.asarray(X)
            if images.ndim == 3:
                images = images[..., np.newaxis]
            if not np.issubdtype(images.dtype, np.number) or images.dtype.kind == "c":
                raise ValueError(f"X must hold numbers, got dtype {images.dtype}.")
            if not np.isfinite(images).all():
                raise ValueError("Input X contains NaN or infinity.")
            if reset:
                self.n_features_in_ = int(np.prod(images.shape[1:]))
            elif int(np.prod(images.shape[1:])) != self.n_features_in_:
                raise ValueError(
                    f"X has images of shape {images.shape[1:]}, but "
                    f"{type(self).__name__} was fitted on images of "
                    f"{self.n_features_in_} values."
                )
            return images
        flat = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32, np.uint8]
        )
        shape = _flat_shape(flat.shape[1], self.input_shape)
        return flat.reshape((flat.shape[0], *shape))

    def _pixels(self, image):
        """Return ``image`` as float32 pixel values in [0, 255] (clipped)."""
        return np.clip(image.astype(np.float32) * self.input_scale_, 0.0, 255.0)


class ColourHistogram(_ImageFeatures):
    """Per-channel colour histograms of images: a feature set with no structure.

    Each channel's pixel values (in [0, 255]; floats in [0, 1] are scaled, values
    outside are clipped) are counted in ``bins`` equal-width bins and divided by
    the number of pixels, so an image of any size gives ``bins * channels``
    features that sum to 1 per channel. Spatial layout is thrown away entirely:
    a classifier on these features sees colour and nothing else.

    Parameters
    ----------
    bins : int, default=16
        Bins per channel.
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened 2-D input; without it a row is
        read as a square RGB image, else a square grayscale image, else a strip.

    Attributes
    ----------
    n_features_in_ : int
        Values per image (array input).
    image_shape_ : tuple of int or None
        ``(height, width, channels)`` seen in fit; None for file paths.
    input_scale_ : float
        255 when fit saw floats in [0, 1], else 1.

    See Also
    --------
    Thumbnail : Tiny downsampled images, the other shortcut probe.
    skbreast.model_selection.colour_histogram_baseline : This transformer in a
        tuned logistic regression.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.preprocessing import ColourHistogram
    >>> images = np.full((2, 4, 4, 3), 200, dtype=np.uint8)
    >>> features = ColourHistogram(bins=4).fit_transform(images)
    >>> features.shape
    (2, 12)
    >>> features[0, :4]  # every red value falls in the last of 4 bins
    array([0., 0., 0., 1.], dtype=float32)
    """

    _parameter_constraints: dict = {
        **_ImageFeatures._parameter_constraints,
        "bins": [Interval(numbers.Integral, 1, 256, closed="both")],
    }

    def __init__(self, bins=16, *, input_shape=None):
        self.bins = bins
        self.input_shape = input_shape

    def _read(self, path):
        return read_image(path)

    def _n_out(self, channels):
        return self.bins * channels

    def _features(self, image):
        pixels = self._pixels(image).reshape(-1, image.shape[-1])
        # Bin k holds [k, k+1) * 256 / bins; 255 lands in the last bin.
        codes = np.minimum(
            (pixels * (self.bins / 256.0)).astype(np.int64), self.bins - 1
        )
        counts = [
            np.bincount(codes[:, c], minlength=self.bins) for c in range(codes.shape[1])
        ]
        return (np.concatenate(counts) / max(1, len(pixels))).astype(np.float32)

    def get_feature_names_out(self, input_features=None):
        """Return names like ``"red_bin0"``.

        Parameters
        ----------
        input_features : None
            Ignored (the features do not come from input columns).

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        channels = 3 if self.image_shape_ is None else self.image_shape_[-1]
        return np.asarray(
            [f"{c}_bin{k}" for c in _CHANNEL_NAMES[channels] for k in range(self.bins)],
            dtype=object,
        )


class Thumbnail(_ImageFeatures):
    """Images shrunk to a few hundred pixels: coarse intensity, no cellular detail.

    Each image is resized to ``size`` with the package's decoder's resampling
    (bilinear, antialiased) and flattened. At the default 21x32 pixels a
    BreakHis image keeps its overall colour and density but no nucleus, so a
    linear model on thumbnails measures what coarse cues alone can do.

    Parameters
    ----------
    size : tuple of (int, int), default=(21, 32)
        ``(height, width)`` of the thumbnails.
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened 2-D input; see
        :class:`ColourHistogram`.

    Attributes
    ----------
    n_features_in_ : int
        Values per image (array input).
    image_shape_ : tuple of int or None
        ``(height, width, channels)`` seen in fit; None for file paths.
    input_scale_ : float
        255 when fit saw floats in [0, 1], else 1.

    See Also
    --------
    ColourHistogram : Colour alone, without any layout.
    skbreast.model_selection.thumbnail_baseline : This transformer in a tuned
        logistic regression.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.preprocessing import Thumbnail
    >>> images = np.zeros((2, 64, 96, 3), dtype=np.uint8)
    >>> Thumbnail(size=(8, 12)).fit_transform(images).shape
    (2, 288)
    """

    _parameter_constraints: dict = {
        **_ImageFeatures._parameter_constraints,
        "size": [tuple, list],
    }

    def __init__(self, size=(21, 32), *, input_shape=None):
        self.size = size
        self.input_shape = input_shape

    def _target(self):
        size = tuple(int(s) for s in self.size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"size must be (height, width), got {self.size!r}.")
        return size

    def _read(self, path):
        return read_image(path, image_size=self._target())

    def _n_out(self, channels):
        height, width = self._target()
        return height * width * channels

    def _features(self, image):
        if not (image.dtype == np.uint8 and self.input_scale_ == 1):
            image = self._pixels(image)
        # The decoder's own resize, so that paths and uint8 arrays agree exactly.
        small = resize_image(image, self._target())
        return small.reshape(-1).astype(np.float32)

    def fit(self, X, y=None):  # noqa: D102 (documented by the base class)
        self._target()
        return super().fit(X, y)
