"""Input validation of the image classifiers: images, paths, labels and weights.

Every way images can arrive (4-D or 3-D arrays, flattened rows, file paths) is
checked and turned into an image source here, so the fit loop and prediction see
one kind of input. Labels are encoded and training weights combined here too.
"""

import numpy as np
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    validate_data,
)

from skbreast._training.batches import (
    ArraySource,
    PathSource,
    as_path_array,
    is_path_input,
)
from skbreast.datasets._imageio import flat_image_shape, read_image

# Stored dtypes that reach the model as they are; anything else (int64, bool, object)
# is converted to float32. uint8 is never widened: scaling happens inside the model.
_KEPT_DTYPES = [np.float32, np.uint8, np.float64, np.float16]


class InputValidationMixin:
    """Validation methods of :class:`~skbreast._training.estimator.BaseImageClassifier`.

    A mixin rather than functions because scikit-learn's ``validate_data`` records
    ``n_features_in_`` on the estimator, and the checks read its parameters
    (``input_shape``, ``class_weight``, ``rescale``).
    """

    def _validate_images(self, X, y=None, *, reset, fitting):
        """Validate X (and y when ``fitting``); return ``(source, y)``."""
        if is_path_input(X):
            return self._validate_paths(X, y, reset=reset, fitting=fitting)

        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if getattr(getattr(X, "dtype", None), "kind", None) in ("M", "m"):
            # scikit-learn would silently turn dates into numbers.
            raise TypeError(
                f"X has dtype {X.dtype}; images must be numeric arrays (uint8, "
                "integer or float) or a 1-D array of image file paths."
            )
        # Objects without ndim (array-likes exposing __array__) go straight to
        # scikit-learn's validation, which accepts 2-D data only.
        ndim = getattr(X, "ndim", 2)
        image_shape = None
        if ndim in (3, 4):
            images = np.asarray(X)
            if ndim == 3:  # (n, H, W): one channel
                images = images[..., np.newaxis]
            image_shape = tuple(images.shape[1:])
            if not reset and image_shape != self.image_shape_:
                raise ValueError(
                    f"X has images of shape {image_shape}, but "
                    f"{type(self).__name__} was fitted on images of shape "
                    f"{self.image_shape_}."
                )
            # A view for C-ordered input: the 2-D form lets scikit-learn's own
            # validation check dtype, finiteness and feature counts.
            X = images.reshape(images.shape[0], int(np.prod(image_shape)))
        elif ndim > 4:
            raise ValueError(
                "X must be images of shape (n_samples, height, width, channels), "
                "flattened images of shape (n_samples, n_features) or a 1-D array of "
                f"image file paths; got an array with {ndim} dimensions."
            )

        check_params = dict(
            reset=reset, dtype=_KEPT_DTYPES, ensure_all_finite=True, allow_nd=False
        )
        if fitting:
            X, y = validate_data(self, X, y, **check_params)
        else:
            X = validate_data(self, X, **check_params)
        if X.dtype == np.float64 and X.size:
            _check_float32_range(X)

        if image_shape is None:
            image_shape = self._flat_image_shape(X.shape[1]) if reset else None
            image_shape = image_shape or self.image_shape_
        elif reset:
            self._check_input_shape_matches(image_shape)
        images = X.reshape((X.shape[0], *image_shape))
        return ArraySource(images), y

    def _validate_paths(self, X, y, *, reset, fitting):
        paths = as_path_array(X)
        if len(paths) == 0:
            raise ValueError(
                "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is "
                f"required by {type(self).__name__}."
            )
        if fitting:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y "
                    "is None."
                )
            y = column_or_1d(y, warn=True)
            check_consistent_length(paths, y)
        if reset:
            if self.input_shape is not None:
                image_shape = self._checked_input_shape()
            else:
                # The first image fixes the size; the others are resized to it.
                first = read_image(paths[0])
                image_shape = first.shape
            self.n_features_in_ = int(np.prod(image_shape))
        else:
            image_shape = self.image_shape_
        return PathSource(paths, image_shape), y

    def _checked_input_shape(self):
        shape = tuple(int(d) for d in np.ravel(self.input_shape))
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(
                "input_shape must be three positive integers (height, width, "
                f"channels), got {self.input_shape!r}."
            )
        return shape

    def _check_input_shape_matches(self, image_shape):
        if self.input_shape is not None and self._checked_input_shape() != image_shape:
            raise ValueError(
                f"input_shape={tuple(self.input_shape)} does not match the shape of "
                f"the images in X, {image_shape}."
            )

    def _flat_image_shape(self, n_features):
        """Return the image shape of flattened input (the class docstring's rule)."""
        shape = None if self.input_shape is None else self._checked_input_shape()
        return flat_image_shape(n_features, shape)

    def _encode_labels(self, y, classes, incremental):
        check_classification_targets(y)
        if incremental:
            known = self.classes_
            unseen = np.setdiff1d(np.unique(y), known)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that were not seen in the "
                    f"first fit (classes_ = {known.tolist()})."
                )
            return known, np.searchsorted(known, y)
        if classes is not None:
            known = np.unique(np.asarray(classes))
            unseen = np.setdiff1d(np.unique(y), known)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} missing from classes="
                    f"{known.tolist()}."
                )
        else:
            known = np.unique(y)
        if len(known) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; the data "
                f"holds only one class: {known.tolist()}."
            )
        return known, np.searchsorted(known, y)

    def _validate_groups(self, groups, n_samples):
        """Return ``(codes, patients)``: integer codes and the ids they stand for.

        ``(None, None)`` without groups.
        """
        if groups is None:
            return None, None
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ValueError(
                f"groups must be 1-D, one patient per image; got an array of shape "
                f"{groups.shape}."
            )
        if len(groups) != n_samples:
            raise ValueError(
                f"groups has {len(groups)} entries but X has {n_samples} images: "
                "give the patient of every image, in the order of X."
            )
        missing = (
            np.isnan(groups)
            if groups.dtype.kind == "f"
            else np.array([g is None or g != g for g in groups])
            if groups.dtype.kind == "O"
            else np.zeros(len(groups), dtype=bool)
        )
        if missing.any():
            raise ValueError(
                f"groups is missing the patient of {int(missing.sum())} of "
                f"{n_samples} images (NaN or None, e.g. image "
                f"{int(np.flatnonzero(missing)[0])}): every image needs its patient."
            )
        try:
            patients, codes = np.unique(groups, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"groups mixes patient ids that cannot be compared ({exc}); use one "
                "type, e.g. strings."
            ) from None
        return codes.reshape(-1), patients

    def _resolve_input_scale(self, source):
        """Return the factor mapping stored pixel values to [0, 1]; see ``rescale``."""
        if self.rescale != "auto":
            return float(self.rescale)
        if source.dtype == np.uint8:
            return 1.0 / 255.0
        images = source.images
        low, high = float(np.min(images)), float(np.max(images))
        # 8-bit pixel values held as floats, e.g. after SMOTE on flattened images.
        return 1.0 / 255.0 if low >= 0.0 and 1.0 < high <= 255.0 else 1.0

    def _training_weights(self, y_encoded, classes, sample_weight):
        weights = _check_sample_weight(sample_weight, y_encoded, dtype=np.float32)
        if self.class_weight is None:
            return weights
        if isinstance(self.class_weight, str):  # "balanced"
            per_sample = compute_sample_weight("balanced", y_encoded)
        else:
            per_sample = self._class_weight_per_class(classes)[y_encoded]
        return (weights * per_sample).astype(np.float32)

    def _class_weight_per_class(self, classes):
        """Return the weight of each of ``classes`` from a ``class_weight`` dict.

        Classes the dict does not name weigh 1; a label that is not a class is
        refused, since it is almost always a typo that would leave a class
        unweighted.
        """
        unknown = set(self.class_weight) - set(classes.tolist())
        if unknown:
            raise ValueError(
                f"class_weight has labels {sorted(map(str, unknown))} that are not "
                f"classes of y ({classes.tolist()})."
            )
        return np.array([float(self.class_weight.get(c, 1.0)) for c in classes])


def _check_float32_range(X):
    """Refuse float64 values that the float32 networks would turn into infinity."""
    limit = float(np.finfo(np.float32).max)
    largest = max(-float(X.min()), float(X.max()))
    if largest > limit:
        raise ValueError(
            f"X contains values of magnitude up to {largest:.3g}, beyond the float32 "
            f"range (about {limit:.3g}) the networks compute in. Images should hold "
            "pixel values, e.g. in [0, 255] or [0, 1]."
        )
