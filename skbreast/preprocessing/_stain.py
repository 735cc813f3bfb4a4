"""StainNormalizer: Macenko, Reinhard and Vahadane stain normalisation.

Why the maths lives here instead of in a dependency. Measured on the 2-core
development machine on PCam 96x96 patches, while other jobs shared the cores, so
the absolute figures are low; the ratios are what decided:

- torchstain 1.4.1's NumPy normalisers take one image at a time (Macenko
  450-490 images/s with one BLAS thread, 56 with the default threads on the busy
  machine; Reinhard 500-760 images/s). Its Macenko raises ``LinAlgError`` on a
  blank (all-white) image and on 4 of 1,000 PCam validation patches, and turns
  black or flat grey images into coloured noise; its Reinhard returns all-black
  images (NaN cast to 0) for blank, black and flat images. Its wheel also
  installs a top-level ``tests`` package into site-packages, which then answers
  ``import tests``. skbreast does not depend on it; ``benchmarks/bench_stain.py``
  compares with it when it is importable.
- scikit-image's colour deconvolution (``separate_stains``/``combine_stains``)
  applies a given stain matrix (Ruifrok and Johnston's); it does not estimate one
  per image, which is what Macenko and Vahadane do. Its ``rgb2lab``/``lab2rgb``
  are what Reinhard needs, but took 70% of Reinhard's transform time and held it
  at 530-670 images/s, too close to the 500 images/s goal: on 32-image float32
  batches they convert 1,730 and 1,410 images/s, where the same formulas on
  whole arrays (a table for 8-bit gamma, no boolean indexing) convert 4,730 and
  2,020, and Reinhard runs at 1,100 images/s. So ``_stain_math`` has its own
  conversions with scikit-image's constants, and the tests check them, and the
  concentrations, against scikit-image.
- scikit-learn's ``dict_learning`` solves Vahadane's sparse non-negative
  factorisation, but at 6.6-9.5 images/s (256 pixels per image, 10 iterations), and
  ``sparse_encode`` takes 0.5 s for the concentrations of one patch: its solvers
  run one small lasso per pixel. With two stains that lasso has an exact
  solution, so ``_stain_math`` runs the same objective and the same
  block-coordinate dictionary update on every image of a batch at once; the tests
  check both against scikit-learn's solvers.

Macenko's estimate (principal plane, angle percentiles) is a few lines of linear
algebra, written batched so that a transform makes no Python loop per image, and
guarded so that no input gives NaN.
"""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skbreast.preprocessing import _stain_math as sm

# Images per vectorised batch: (32, 9216, 3) float32 temporaries stay in cache;
# measured 1.2x faster than batches of 256.
_CHUNK = 32
# Tissue pixels pooled from the reference images in fit (a regular subsample of
# every image beyond this): percentiles of a million values are exact enough.
_MAX_FIT_PIXELS = 2**20
# Vahadane's factorisation learns each image's two stains from a regular
# subsample of this many pixels; its concentrations use every pixel.
_NMF_PIXELS = 1024
_NMF_FIT_PIXELS = 2**16
_NMF_MAX_ITER = 100
_NMF_FIT_MAX_ITER = 1000
# A CIE-LAB channel whose standard deviation is below this (L runs 0-100) is flat:
# scaling it to the target's spread would only amplify quantisation noise.
_MIN_LAB_STD = 0.1
# A stain whose 99th-percentile concentration is below this is absent.
_MIN_CONCENTRATION = 1e-3

_UNCHANGED_REASONS = {
    sm.NO_TISSUE: (
        f"{{}} with fewer than {sm.MIN_TISSUE_PIXELS} tissue pixels (blank, "
        "background only, black or saturated)"
    ),
    sm.ONE_STAIN: "{} whose two stains could not be separated (one stain only)",
    sm.FLAT: (
        f"{{}} of a flat colour (a CIE-LAB channel with standard deviation below "
        f"{_MIN_LAB_STD})"
    ),
}
_NO_TARGET = 5
_UNCHANGED_REASONS[_NO_TARGET] = "{} as fit learnt no target (see its warning)"
_MERGED_REASON = (
    "the sparse factorisation merged their two stains (a smaller sparsity avoids this)"
)


# No set_output wrapping: the output may be 4-D images, which no DataFrame holds.
class StainNormalizer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Map H&E images to the stain colours of reference images.

    Slides stained on different days, in different labs or scanned on different
    scanners differ in colour, and a classifier can learn those colours as a
    shortcut to the patient or the centre. A stain normaliser learns a target
    appearance in :meth:`fit` and maps every image to it in :meth:`transform`.

    - ``"macenko"`` (Macenko et al., ISBI 2009): each image's hematoxylin and
      eosin vectors are estimated in optical-density space from the angle
      percentiles of its pixels in their principal plane; the per-pixel stain
      concentrations are re-mixed with the target's stain vectors, scaled so that
      their 99th percentiles match the target's.
    - ``"vahadane"`` (Vahadane et al., IEEE TMI 2016): as Macenko, but the stain
      vectors come from a sparse non-negative factorisation of the optical
      densities (started from Macenko's estimate), which models each pixel as
      mostly one stain. About half as fast as Macenko.
    - ``"reinhard"`` (Reinhard et al., 2001): matches the mean and standard
      deviation of each CIE-LAB channel to the target's. The simplest; it shifts
      colours globally and does not separate the stains.

    Read more in the :ref:`User Guide <stain_normalisation>`.

    In a :class:`~sklearn.pipeline.Pipeline`, ``fit`` sees the training folds only,
    so the target never comes from test images. Pixels with an optical density
    shorter than ``od_threshold`` (near-white background) or with a saturated
    channel are left out of every estimate, and are mapped like the others.

    Images that cannot be normalised (fewer than 20 tissue pixels: blank,
    background-only, black or saturated images; one stain only; a flat colour
    for Reinhard) are returned unchanged. Where Vahadane's factorisation merges
    an image's two stains into one, that image is normalised with its Macenko
    stain vectors. One warning per call says how many images fell back and why.
    Reference images without usable tissue make ``fit`` warn and learn the
    identity (like :class:`~sklearn.preprocessing.StandardScaler` on a constant
    feature); the fitted attributes are then None. No input gives NaN.

    Parameters
    ----------
    method : {"macenko", "reinhard", "vahadane"}, default="macenko"
        The normalisation method.
    od_threshold : float, default=0.15
        Pixels whose optical-density vector (natural log, ``I0 = 255``) is
        shorter than this are background. 0.15 leaves out pixels brighter than
        about (233, 233, 233).
    angle_percentile : float, default=1.0
        Macenko's (and Vahadane's starting) robust extremes: the stain vectors lie
        at the ``angle_percentile`` and ``100 - angle_percentile`` percentiles of
        the pixel angles. Must be in [0, 50).
    concentration_percentile : float, default=99.0
        The percentile of each stain's concentration over tissue that is matched
        to the target's (``"macenko"`` and ``"vahadane"``).
    sparsity : float, default=0.1
        The L1 penalty on concentrations in Vahadane's factorisation (λ of the
        paper, ``alpha`` of :class:`~sklearn.decomposition.DictionaryLearning`).
    input_shape : tuple of int, default=None
        ``(height, width, 3)`` of flattened input: 2-D ``X`` of shape
        ``(n_samples, height * width * 3)``, as scikit-learn and imbalanced-learn
        pass it. Used to check 2-D input only. Without it, each row of 2-D input
        is read as ``n_features / 3`` RGB pixels in C order (the layout of
        ``images.reshape(n, -1)``), which is all a per-pixel colour mapping needs.
    n_jobs : int, default=None
        Threads that normalise batches of 32 images in parallel in
        :meth:`transform`. ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context; ``-1`` means all cores. Results
        do not depend on it.

    Attributes
    ----------
    stain_matrix_ : ndarray of shape (2, 3)
        The target's unit optical-density vectors, one row per stain
        (hematoxylin, eosin), in the row convention of
        ``skimage.color.rgb_from_hed``. Methods ``"macenko"`` and ``"vahadane"``;
        None when the reference had no usable tissue (``fit`` warned).
    max_concentrations_ : ndarray of shape (2,)
        The ``concentration_percentile`` percentile of each stain's concentration
        over the reference tissue. Methods ``"macenko"`` and ``"vahadane"``.
    lab_means_ : ndarray of shape (3,)
        The mean of CIE-LAB L, a and b over the reference tissue. Method
        ``"reinhard"``; None when the reference had no usable tissue.
    lab_stds_ : ndarray of shape (3,)
        Their standard deviations. Method ``"reinhard"``.
    n_features_in_ : int
        Values per image in ``fit`` (``height * width * 3``). 2-D input to
        :meth:`transform` must have as many; 4-D input may have any size.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``fit`` received a DataFrame.

    See Also
    --------
    skimage.color.separate_stains : Colour deconvolution with a fixed stain matrix.

    Notes
    -----
    Accepted input: uint8 (or any integer) images with values in [0, 255]; float
    images in [0, 1] (when the largest value is at most 1) or [0, 255]. Output has
    the layout of the input (4-D or flattened 2-D): uint8 for integer input, the
    input's float dtype and range for float input. The range of float input is
    read from each call's largest value, as the skbreast classifiers'
    ``rescale="auto"`` does. Negative values, values above 255, NaN, and images
    that are not RGB raise ``ValueError``.

    The reference pixels are pooled over all reference images (a regular
    subsample of about a million tissue pixels when there are more), so one
    target describes the whole training set. Nothing is random: the same input
    gives the same output, whatever the batch it comes in and ``n_jobs``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.preprocessing import StainNormalizer
    >>> rng = np.random.RandomState(0)
    >>> he = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11]])  # H&E vectors
    >>> density = rng.uniform(0, 1, size=(4, 16 * 16, 2)) @ he
    >>> images = (255 * np.exp(-density)).astype(np.uint8).reshape(4, 16, 16, 3)
    >>> normalizer = StainNormalizer(method="macenko").fit(images[:2])
    >>> normalizer.stain_matrix_.shape
    (2, 3)
    >>> normalizer.transform(images[2:]).shape
    (2, 16, 16, 3)
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"macenko", "reinhard", "vahadane"})],
        "od_threshold": [Interval(numbers.Real, 0, None, closed="left")],
        "angle_percentile": [Interval(numbers.Real, 0, 50, closed="left")],
        "concentration_percentile": [
            Interval(numbers.Real, 0, 100, closed="neither"),
        ],
        "sparsity": [Interval(numbers.Real, 0, None, closed="neither")],
        "input_shape": ["array-like", None],
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(
        self,
        method="macenko",
        *,
        od_threshold=0.15,
        angle_percentile=1.0,
        concentration_percentile=99.0,
        sparsity=0.1,
        input_shape=None,
        n_jobs=None,
    ):
        self.method = method
        self.od_threshold = od_threshold
        self.angle_percentile = angle_percentile
        self.concentration_percentile = concentration_percentile
        self.sparsity = sparsity
        self.input_shape = input_shape
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Pixel intensities: negative values are refused.
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        """Learn the target stain appearance from reference images.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, 3) or \
(n_samples, n_features)
            Reference images (the training folds, inside a Pipeline), or the
            same flattened; see ``input_shape``.
        y : None
            Ignored.

        Returns
        -------
        self : StainNormalizer
            The fitted normaliser.
        """
        self._validate_params()
        pixels, scale, _ = self._validate_images(X, reset=True)
        tissue = self._pooled_tissue(pixels, scale)
        # Like StandardScaler on a constant feature, an unusable reference gives
        # the identity, not an error: a fold of a grid search keeps running, and
        # the warnings say why nothing changes.
        self._reference_problem = None
        if len(tissue) < sm.MIN_TISSUE_PIXELS:
            self._reference_problem = (
                f"they hold {len(tissue)} tissue pixels, fewer than "
                f"{sm.MIN_TISSUE_PIXELS} (blank, background only, black or saturated)"
            )
        elif self.method == "reinhard":
            self._fit_reinhard(tissue, scale)
        else:
            self._fit_stains(tissue, scale)
        if self._reference_problem is not None:
            if self.method == "reinhard":
                self.lab_means_ = self.lab_stds_ = None
            else:
                self.stain_matrix_ = self.max_concentrations_ = None
            warnings.warn(
                f"StainNormalizer(method={self.method!r}) learnt no target from the "
                f"reference images: {self._reference_problem}; transform will "
                "return images unchanged. Use H&E images with nuclei and stroma.",
                UserWarning,
                stacklevel=2,
            )
        return self

    def transform(self, X):
        """Normalise the stain colours of images.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, 3) or \
(n_samples, n_features)
            Images of any size (4-D), or flattened images with ``n_features_in_``
            values each.

        Returns
        -------
        X_normalised : ndarray of the same shape as X
            uint8 for integer input; the input's float dtype and value range for
            float input.
        """
        if self.method == "reinhard":
            check_is_fitted(self, ["lab_means_", "lab_stds_"])
        else:
            check_is_fitted(self, ["stain_matrix_", "max_concentrations_"])
        pixels, scale, shape = self._validate_images(X, reset=False)
        dtype = pixels.dtype if pixels.dtype.kind == "f" else np.uint8
        if self._reference_problem is not None:
            self._warn_fallbacks(np.full(len(pixels), _NO_TARGET, dtype=np.int8))
            return pixels.astype(dtype).reshape(shape)
        out = np.empty(pixels.shape, dtype=dtype)
        status = np.empty(len(pixels), dtype=np.int8)
        # Threads, not processes: NumPy releases the GIL in its array loops, and
        # each batch writes its own slice of ``out``.
        Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(self._transform_chunk)(pixels, scale, out, status, start)
            for start in range(0, len(pixels), _CHUNK)
        )
        self._warn_fallbacks(status)
        return out.reshape(shape)

    def _transform_chunk(self, pixels, scale, out, status, start):
        chunk = pixels[start : start + _CHUNK]
        if self.method == "reinhard":
            result, chunk_status = self._reinhard_chunk(chunk, scale)
        else:
            result, chunk_status = self._stain_chunk(chunk, scale)
        if out.dtype.kind == "f":
            result /= np.float32(scale)
        else:
            np.clip(result, 0.0, 255.0, out=result)
            result += np.float32(0.5)  # round to nearest on the cast below
        target = out[start : start + _CHUNK]
        target[...] = result
        failed = np.isin(chunk_status, list(_UNCHANGED_REASONS))
        target[failed] = chunk[failed]  # unchanged, in the output dtype
        status[start : start + _CHUNK] = chunk_status

    # -- validation ---------------------------------------------------------------

    def _validate_images(self, X, *, reset):
        """Return ``(pixels of shape (n, P, 3), scale to [0, 255], output shape)``."""
        if not hasattr(X, "ndim") or not hasattr(X, "shape"):
            X = np.asarray(X)
        name = type(self).__name__
        if X.ndim == 4:
            if X.shape[-1] != 3:
                raise ValueError(
                    f"{name} needs RGB images with 3 channels; X has images of shape "
                    f"{tuple(X.shape[1:])}. Drop an alpha channel with X[..., :3]; "
                    "grey-level images carry no stain colour to normalise."
                )
            flat = np.asarray(X).reshape(X.shape[0], -1)
            if reset:
                flat = validate_data(self, flat, reset=True, dtype="numeric", order="C")
            else:
                # Stain normalisation is per pixel: images of another size than
                # the reference images are fine.
                flat = check_array(flat, dtype="numeric", order="C", estimator=self)
            shape = tuple(X.shape)
        elif X.ndim in (1, 2):
            flat = validate_data(self, X, reset=reset, dtype="numeric", order="C")
            shape = flat.shape
        else:
            raise ValueError(
                f"{name} takes RGB images of shape (n_samples, height, width, 3) or "
                "flattened images of shape (n_samples, n_features); got an array of "
                f"shape {tuple(X.shape)}. A single image needs a leading axis: "
                "X[np.newaxis]."
            )
        if flat.dtype.kind == "b":
            flat = flat.astype(np.uint8)
        low, high = float(flat.min()), float(flat.max())
        if low < 0 or high > 255:
            problem = "Negative values in data" if low < 0 else "Values above 255"
            raise ValueError(
                f"{problem} passed to {name}: it takes pixel values in [0, 255] (or "
                f"floats in [0, 1]); X has values in [{low:g}, {high:g}]."
            )
        if X.ndim != 4:
            self._check_flat_layout(flat.shape[1])
        if flat.dtype.kind == "f":
            scale = 255.0 if high <= 1.0 else 1.0
        else:
            flat, scale = flat.astype(np.uint8, copy=False), 1.0
        return flat.reshape(flat.shape[0], -1, 3), scale, shape

    def _check_flat_layout(self, n_features):
        name = type(self).__name__
        if self.input_shape is not None:
            image_shape = tuple(int(d) for d in np.ravel(self.input_shape))
            if len(image_shape) != 3 or min(image_shape) < 1 or image_shape[2] != 3:
                raise ValueError(
                    "input_shape must be (height, width, 3) for RGB images, got "
                    f"{self.input_shape!r}."
                )
            if int(np.prod(image_shape)) != n_features:
                raise ValueError(
                    f"X has {n_features} features per sample, which cannot be "
                    f"reshaped to input_shape={image_shape} "
                    f"({int(np.prod(image_shape))} values)."
                )
        elif n_features % 3:
            raise ValueError(
                f"{name} needs RGB pixels, but X has {n_features} feature(s) per "
                "sample, not a multiple of 3. Pass images of shape (n_samples, "
                "height, width, 3), or flattened RGB images with input_shape."
            )

    # -- fit ----------------------------------------------------------------------

    def _pooled_tissue(self, pixels, scale):
        """Return the reference tissue pixels, a regular subsample beyond the cap."""
        stride = max(
            1, int(np.ceil(pixels.shape[0] * pixels.shape[1] / _MAX_FIT_PIXELS))
        )
        kept = []
        for start in range(0, len(pixels), _CHUNK):
            chunk = pixels[start : start + _CHUNK, ::stride]
            mask = sm.tissue_mask(sm.optical_density(chunk, scale), self.od_threshold)
            kept.append(chunk[mask])
        return np.concatenate(kept)

    def _fit_reinhard(self, tissue, scale):
        lab = sm.to_lab(tissue[None], scale)
        mean, std = sm.masked_moments(lab, np.ones(lab.shape[:2], dtype=bool))
        if std.min() < _MIN_LAB_STD:
            self._reference_problem = (
                "their tissue has a flat colour (CIE-LAB standard deviations "
                f"{np.round(std[0], 3).tolist()})"
            )
        self.lab_means_, self.lab_stds_ = mean[0], std[0]

    def _fit_stains(self, tissue, scale):
        od = sm.optical_density(tissue[None], scale)
        mask = np.ones(od.shape[:2], dtype=bool)
        stains, status = sm.macenko_stains(od, mask, self.angle_percentile)
        if status[0] == sm.OK and self.method == "vahadane":
            stride = max(1, od.shape[1] // _NMF_FIT_PIXELS)
            refined, ok = sm.sparse_nmf_stains(
                od[:, ::stride],
                mask[:, ::stride],
                stains,
                self.sparsity,
                _NMF_FIT_MAX_ITER,
                tol=1e-6,
            )
            if ok[0] and sm.separable(refined)[0]:
                stains = refined
            else:
                warnings.warn(
                    "StainNormalizer(method='vahadane') uses Macenko's stain vectors "
                    f"as the target: {_MERGED_REASON}.",
                    UserWarning,
                    stacklevel=3,
                )
        maxima = _max_concentrations(od, mask, stains, self.concentration_percentile)
        if status[0] != sm.OK or maxima.min() < _MIN_CONCENTRATION:
            self._reference_problem = (
                "they show a single stain or a flat colour, so two stain vectors "
                "cannot be told apart"
            )
        self.stain_matrix_, self.max_concentrations_ = stains[0], maxima[0]

    # -- transform ----------------------------------------------------------------

    def _stain_chunk(self, chunk, scale):
        od = sm.optical_density(chunk, scale)
        mask = sm.tissue_mask(od, self.od_threshold)
        stains, status = sm.macenko_stains(od, mask, self.angle_percentile)
        if self.method == "vahadane":
            stride = max(1, od.shape[1] // _NMF_PIXELS)
            refined, ok = sm.sparse_nmf_stains(
                od[:, ::stride], mask[:, ::stride], stains, self.sparsity, _NMF_MAX_ITER
            )
            good = ok & sm.separable(refined)
            stains = np.where(
                ((status == sm.OK) & good)[:, None, None], refined, stains
            )
            status[(status == sm.OK) & ~good] = sm.MERGED
        codes = sm.concentrations(od, stains)
        maxima = _quantiles_per_stain(codes, mask, self.concentration_percentile)
        normalised = (status == sm.OK) | (status == sm.MERGED)
        status[normalised & (maxima.min(axis=1) < _MIN_CONCENTRATION)] = sm.ONE_STAIN
        gain = self.max_concentrations_ / np.maximum(maxima, _MIN_CONCENTRATION)
        codes *= gain[:, None, :].astype(np.float32)
        return sm.beer_lambert(codes, self.stain_matrix_), status

    def _reinhard_chunk(self, chunk, scale):
        mask = sm.tissue_mask(sm.optical_density(chunk, scale), self.od_threshold)
        lab = sm.to_lab(chunk, scale)
        mean, std = sm.masked_moments(lab, mask)
        status = np.full(len(chunk), sm.OK, dtype=np.int8)
        status[std.min(axis=1) < _MIN_LAB_STD] = sm.FLAT
        status[mask.sum(axis=1) < sm.MIN_TISSUE_PIXELS] = sm.NO_TISSUE
        gain = self.lab_stds_ / np.maximum(std, _MIN_LAB_STD)
        offset = self.lab_means_ - mean * gain
        lab *= gain[:, None, :].astype(np.float32)
        lab += offset[:, None, :].astype(np.float32)
        rgb = sm.from_lab(lab)
        rgb *= np.float32(255.0)
        return rgb.astype(np.float32, copy=False), status

    def _warn_fallbacks(self, status):
        counts = np.bincount(status, minlength=6)
        n, unchanged = len(status), int(counts[list(_UNCHANGED_REASONS)].sum())
        messages = []
        if unchanged:
            reasons = "; ".join(
                template.format(counts[code])
                for code, template in _UNCHANGED_REASONS.items()
                if counts[code]
            )
            messages.append(f"returned {unchanged} of {n} images unchanged: {reasons}")
        if counts[sm.MERGED]:
            messages.append(
                f"normalised {counts[sm.MERGED]} of {n} images with Macenko's stain "
                f"vectors instead: {_MERGED_REASON}"
            )
        if messages:
            warnings.warn(
                f"StainNormalizer(method={self.method!r}) "
                + "; and ".join(messages)
                + ".",
                UserWarning,
                stacklevel=3,
            )


def _quantiles_per_stain(codes, mask, percentile):
    return np.stack(
        [
            sm.masked_quantiles(codes[..., k], mask, [percentile / 100.0])[:, 0]
            for k in (0, 1)
        ],
        axis=1,
    )


def _max_concentrations(od, mask, stains, percentile):
    return _quantiles_per_stain(sm.concentrations(od, stains), mask, percentile)
