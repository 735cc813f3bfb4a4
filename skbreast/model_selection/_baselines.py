"""Trivial baselines that expose shortcuts: colour alone, thumbnails alone.

On the 17 shared BreakHis patients a logistic regression on colour histograms
reaches a patient-grouped ROC AUC of 0.90 and one on 21x32 thumbnails 0.96, above
the CNN: in those patients colour and coarse density separate the classes, a
relation that does not hold on other patients. Run these beside every model, on
the same folds: when one of them does as well as the model, the model's score says
little about pathology.
"""

from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skbreast.preprocessing import ColourHistogram, Thumbnail

# C is tuned inside each training fold over this grid (LogisticRegressionCV's
# own inner 5-fold split), so the reported folds never choose it.
_CS = 10


def tuned_logistic_regression(cv, *, multiclass=False, Cs=_CS, class_weight=None):
    """Return a LogisticRegressionCV choosing ``C`` by an inner split ``cv``.

    Binary: by ROC AUC with liblinear. Near-separable training folds (a small data
    set, or thousands of thumbnail pixels) drive lbfgs to thousands of iterations
    at the large values of C; liblinear fitted the same path with the same C
    chosen 2 to 25 times faster on the 2-core development machine, and its seeded
    coordinate order keeps the fit deterministic. Multiclass: by log loss with
    lbfgs (multinomial), as liblinear fits binary problems only.
    """
    model = LogisticRegressionCV(
        Cs=Cs,
        cv=cv,
        scoring="neg_log_loss" if multiclass else "roc_auc",
        solver="lbfgs" if multiclass else "liblinear",
        max_iter=5000,
        class_weight=class_weight,
        random_state=0,
    )
    params = model.get_params()
    # scikit-learn 1.8+ warns until its new defaults are chosen explicitly:
    # the leaner fitted attributes (nothing here reads the legacy ones) and a
    # pure L2 penalty, which is what older versions fit by default.
    if "use_legacy_attributes" in params:
        model.set_params(use_legacy_attributes=False)
    if params.get("penalty") == "deprecated":
        model.set_params(l1_ratios=(0.0,))
    return model


def colour_histogram_baseline(bins=16, *, input_shape=None, cv=5, multiclass=False):
    """Return a Pipeline: colour histograms, scaling, tuned logistic regression.

    Parameters
    ----------
    bins : int, default=16
        Histogram bins per colour channel (see
        :class:`~skbreast.preprocessing.ColourHistogram`).
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened 2-D input.
    cv : int or cross-validation generator, default=5
        The inner split that :class:`~sklearn.linear_model.LogisticRegressionCV`
        tunes ``C`` on (10 values from 1e-4 to 1e4, by ROC AUC, or by log loss
        with ``multiclass``), inside the training data it is given.
    multiclass : bool, default=False
        Fit more than two classes (e.g. the eight BreakHis subtypes): a
        multinomial regression (lbfgs) with ``C`` tuned by log loss. The default
        (binary) tunes by ROC AUC with liblinear, which refuses a third class.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"features"``, ``"scale"``, ``"classifier"``. Deterministic: the
        inner split draws nothing at random, liblinear's coordinate order is
        seeded and lbfgs (``multiclass``) draws nothing.

    See Also
    --------
    thumbnail_baseline : Coarse intensity instead of colour.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import colour_histogram_baseline
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(40) % 2
    >>> images = rng.integers(0, 100, (40, 8, 8, 3)).astype(np.uint8)
    >>> images[y == 1, :, :, 0] += 120  # the classes differ in redness only
    >>> baseline = colour_histogram_baseline(bins=8).fit(images, y)
    >>> baseline.score(images, y)
    1.0
    """
    return Pipeline(
        [
            ("features", ColourHistogram(bins=bins, input_shape=input_shape)),
            ("scale", StandardScaler()),
            ("classifier", tuned_logistic_regression(cv, multiclass=multiclass)),
        ]
    )


def thumbnail_baseline(size=(21, 32), *, input_shape=None, cv=5, multiclass=False):
    """Return a Pipeline: thumbnails, scaling, tuned logistic regression.

    Parameters
    ----------
    size : tuple of (int, int), default=(21, 32)
        ``(height, width)`` of the thumbnails (see
        :class:`~skbreast.preprocessing.Thumbnail`): overall colour and density
        survive, cells do not.
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened 2-D input.
    cv : int or cross-validation generator, default=5
        The inner split on which ``C`` is tuned, as in
        :func:`colour_histogram_baseline`.
    multiclass : bool, default=False
        More than two classes, as in :func:`colour_histogram_baseline`.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"features"``, ``"scale"``, ``"reduce"`` (a PCA keeping 99% of
        the thumbnails' variance) and ``"classifier"``.

    See Also
    --------
    colour_histogram_baseline : Colour without any layout.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import thumbnail_baseline
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(40) % 2
    >>> images = rng.integers(0, 100, (40, 16, 16, 3)).astype(np.uint8)
    >>> images[y == 1] += 100  # the classes differ in brightness
    >>> thumbnail_baseline(size=(4, 4)).fit(images, y).score(images, y)
    1.0
    """
    return Pipeline(
        [
            ("features", Thumbnail(size=size, input_shape=input_shape)),
            ("scale", StandardScaler()),
            # Neighbouring thumbnail pixels are strongly correlated: on 1,000
            # 50x50 patches the 2,016 values keep 99% of their variance in 408
            # components, the tuning of C fitted 10 times faster on them (6 s
            # instead of 63 s) and chose the same C with the same fold ROC AUCs.
            # The exact SVD is deterministic.
            ("reduce", PCA(n_components=0.99, svd_solver="full")),
            ("classifier", tuned_logistic_regression(cv, multiclass=multiclass)),
        ]
    )
