"""StainNormalizer: recovery of known stains, fallbacks, input handling, sklearn API.

Synthetic images follow Beer-Lambert, ``I = 255 * exp(-C @ M)``, with a known H&E
stain matrix ``M`` and random concentrations ``C``, so the right answer is known.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import dict_learning, sparse_encode
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbreast.preprocessing import StainNormalizer
from skbreast.preprocessing import _stain_math as sm

METHODS = ["macenko", "vahadane", "reinhard"]
STAIN_METHODS = ["macenko", "vahadane"]


def _unit(rows):
    rows = np.asarray(rows, dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


# Ruifrok and Johnston's H&E, and a bluer hematoxylin / greyer eosin "other lab".
HE = _unit([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11]])
OTHER_LAB = _unit([[0.55, 0.78, 0.30], [0.15, 0.95, 0.28]])


def concentrations(n, size, seed, *, stains_present=(0, 1), background=0.1):
    """Random concentrations: H-only, E-only and mixed pixels, some background.

    Pure-stain pixels are what lets Macenko's angle percentiles (and Vahadane's
    sparse codes) find the stain vectors; real tissue has them too (nuclei, stroma).
    """
    rng = np.random.RandomState(seed)
    p_mix = (1 - background) / 3
    kind = rng.choice(4, size=(n, size * size), p=[p_mix, p_mix, p_mix, background])
    c = np.zeros((n, size * size, 2))
    c[..., 0] = np.where(kind % 2 == 0, rng.uniform(0.2, 1.5, kind.shape), 0)
    c[..., 0] *= kind != 3
    c[..., 1] = np.where(
        (kind == 1) | (kind == 2), rng.uniform(0.1, 1.0, kind.shape), 0
    )
    for k in {0, 1} - set(stains_present):
        c[..., k] = 0
    return c


def render(c, stains, size):
    """Beer-Lambert uint8 images of shape (n, size, size, 3)."""
    intensity = 255 * np.exp(-c @ stains)
    return (
        np.clip(np.rint(intensity), 0, 255).astype(np.uint8).reshape(-1, size, size, 3)
    )


def psnr(a, b):
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def skimage_color():
    """scikit-image, the reference for colour conversion and deconvolution."""
    return pytest.importorskip("skimage.color")


@pytest.fixture(scope="module")
def he_images():
    return render(concentrations(6, 32, seed=0), HE, 32)


# -- recovery of known stains ---------------------------------------------------------


@pytest.mark.parametrize("method", STAIN_METHODS)
def test_recovers_known_stain_vectors(method, he_images):
    normalizer = StainNormalizer(method=method).fit(he_images)
    cosines = np.sum(normalizer.stain_matrix_ * HE, axis=1)
    assert cosines.min() >= 0.99, cosines  # hematoxylin first, eosin second
    assert normalizer.stain_matrix_.shape == (2, 3)
    assert np.all(normalizer.max_concentrations_ > 0)


@pytest.mark.parametrize("method", STAIN_METHODS)
def test_restained_image_normalised_back_to_its_original(method):
    c = concentrations(4, 32, seed=1)
    original, restained = render(c, HE, 32), render(c, OTHER_LAB, 32)
    normalizer = StainNormalizer(method=method).fit(original)
    restored = normalizer.transform(restained)
    assert psnr(restored, original) >= 30.0
    assert psnr(restored, original) > psnr(restained, original) + 5


def test_reinhard_matches_target_lab_moments(skimage_color):
    # Tissue everywhere and colours well inside the sRGB gamut, so that the
    # moments are not changed by background or clipping.
    target = render(0.4 + 0.6 * concentrations(3, 32, 2, background=0), HE, 32)
    source = render(0.3 + 0.4 * concentrations(3, 32, 3, background=0), OTHER_LAB, 32)
    normalizer = StainNormalizer(method="reinhard").fit(target)
    lab_target = skimage_color.rgb2lab(target).reshape(-1, 3)
    np.testing.assert_allclose(normalizer.lab_means_, lab_target.mean(0), rtol=1e-3)
    np.testing.assert_allclose(normalizer.lab_stds_, lab_target.std(0), rtol=1e-3)

    out = normalizer.transform(source)
    for image in out:  # each image is matched on its own
        lab = skimage_color.rgb2lab(image).reshape(-1, 3)
        np.testing.assert_allclose(lab.mean(0), normalizer.lab_means_, rtol=0.01)
        np.testing.assert_allclose(lab.std(0), normalizer.lab_stds_, rtol=0.01)


@pytest.mark.parametrize("method", METHODS)
def test_background_is_left_out_of_the_target(method, he_images):
    # The same tissue, then three quarters of the image white: same target.
    padded = np.full((len(he_images), 64, 64, 3), 250, dtype=np.uint8)
    padded[:, :32, :32] = he_images
    plain = StainNormalizer(method=method).fit(he_images)
    with_background = StainNormalizer(method=method).fit(padded)
    if method == "reinhard":
        np.testing.assert_allclose(with_background.lab_means_, plain.lab_means_)
        np.testing.assert_allclose(with_background.lab_stds_, plain.lab_stds_)
    else:
        np.testing.assert_allclose(with_background.stain_matrix_, plain.stain_matrix_)
        np.testing.assert_allclose(
            with_background.max_concentrations_, plain.max_concentrations_
        )


# -- fallbacks ------------------------------------------------------------------------


def _odd_images(size=32):
    hema_only = render(concentrations(1, size, 4, stains_present=(0,)), HE, size)[0]
    eosin_only = render(concentrations(1, size, 5, stains_present=(1,)), HE, size)[0]
    return {
        "blank": np.full((size, size, 3), 255, np.uint8),
        "black": np.zeros((size, size, 3), np.uint8),
        "flat": np.full((size, size, 3), (200, 120, 180), np.uint8),
        "hematoxylin only": hema_only,
        "eosin only": eosin_only,
    }


ODD = _odd_images()
REASON = {
    "blank": "fewer than 20 tissue pixels",
    "black": "fewer than 20 tissue pixels",
    "flat": {"reinhard": "flat colour", "other": "could not be separated"},
    "hematoxylin only": "could not be separated",
    "eosin only": "could not be separated",
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", list(ODD))
def test_degenerate_images_fall_back_with_a_warning(method, kind, he_images):
    normalizer = StainNormalizer(method=method).fit(he_images)
    batch = np.concatenate([he_images[:2], ODD[kind][None]])
    if method == "reinhard" and kind.endswith("only"):
        # One stain is a colour distribution like any other for Reinhard.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = normalizer.transform(batch)
        assert not np.array_equal(out[2], batch[2])
    else:
        reason = REASON[kind]
        if isinstance(reason, dict):
            reason = reason["reinhard" if method == "reinhard" else "other"]
        with pytest.warns(UserWarning, match=f"1 of 3 images unchanged.*{reason}"):
            out = normalizer.transform(batch)
        np.testing.assert_array_equal(out[2], batch[2])
    assert out.dtype == np.uint8 and out.shape == batch.shape


def test_fallback_warning_counts_every_reason(he_images):
    batch = np.stack([*he_images[:2], ODD["blank"], ODD["black"], ODD["eosin only"]])
    with pytest.warns(UserWarning) as record:
        StainNormalizer().fit(he_images).transform(batch)
    assert len(record) == 1  # one warning per call, not one per image
    message = str(record[0].message)
    assert "returned 3 of 5 images unchanged" in message
    assert "2 with fewer than 20 tissue pixels" in message
    assert "1 whose two stains could not be separated" in message


@pytest.mark.parametrize("method", METHODS)
def test_unusable_reference_gives_the_identity_with_warnings(method, he_images):
    with pytest.warns(UserWarning, match="learnt no target.*fewer than 20"):
        normalizer = StainNormalizer(method=method).fit(ODD["blank"][None])
    with pytest.warns(UserWarning, match="2 of 2 images unchanged"):
        out = normalizer.transform(he_images[:2])
    np.testing.assert_array_equal(out, he_images[:2])


def test_vahadane_falls_back_to_macenko_vectors_when_stains_merge(he_images):
    # A huge L1 penalty drives every code to 0: the factorisation cannot be used.
    normalizer = StainNormalizer(method="vahadane", sparsity=50.0)
    with pytest.warns(UserWarning, match="Macenko's stain vectors"):
        normalizer.fit(he_images)
    macenko = StainNormalizer(method="macenko").fit(he_images)
    np.testing.assert_allclose(normalizer.stain_matrix_, macenko.stain_matrix_)
    with pytest.warns(UserWarning, match="normalised 2 of 2 images with Macenko"):
        out = normalizer.transform(he_images[:2])
    np.testing.assert_array_equal(out, macenko.transform(he_images[:2]))


# -- input handling -------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_layouts_and_dtypes(method, he_images):
    normalizer = StainNormalizer(method=method).fit(he_images[:3])
    images = he_images[3:]
    out = normalizer.transform(images)
    assert out.shape == images.shape and out.dtype == np.uint8

    flat = images.reshape(len(images), -1)
    flat_out = normalizer.transform(flat)  # no input_shape: rows of RGB pixels
    assert flat_out.shape == flat.shape
    np.testing.assert_array_equal(flat_out, out.reshape(flat.shape))
    shaped = clone(normalizer).set_params(input_shape=(32, 32, 3)).fit(he_images[:3])
    np.testing.assert_array_equal(shaped.transform(flat), flat_out)

    for dtype in (np.int64, np.int32):
        np.testing.assert_array_equal(normalizer.transform(images.astype(dtype)), out)
    for dtype in (np.float32, np.float64):
        as_float = normalizer.transform(images.astype(dtype))
        assert as_float.dtype == dtype
        np.testing.assert_allclose(as_float, out, atol=0.51)  # same result, not rounded
        unit = normalizer.transform(images.astype(dtype) / 255)  # floats in [0, 1]
        assert unit.dtype == dtype and unit.max() <= 1.0
        np.testing.assert_allclose(unit * 255, out, atol=0.51)

    # Stain normalisation is per pixel: other image sizes than in fit are fine.
    larger = np.tile(images, (1, 2, 3, 1))
    assert normalizer.transform(larger).shape == larger.shape


def test_float_reference_gives_the_same_target(he_images):
    uint8 = StainNormalizer().fit(he_images)
    unit = StainNormalizer().fit(he_images / 255.0)
    np.testing.assert_allclose(unit.stain_matrix_, uint8.stain_matrix_, atol=1e-3)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((2, 8, 8, 1), np.uint8), "RGB images with 3 channels"),
        (np.zeros((2, 8, 8, 4), np.uint8), "alpha channel"),
        (np.zeros((2, 8, 8), np.uint8), "shape"),
        (np.zeros((8, 8, 3), np.uint8), "leading axis"),
        (np.zeros((2, 1, 8, 8, 3), np.uint8), "shape"),
        (np.zeros((2, 10), np.uint8), "not a multiple of 3|expecting 3072 features"),
        (np.full((2, 8, 8, 3), np.nan), "NaN"),
        (np.full((2, 8, 8, 3), -1.0), "Negative values"),
        (np.full((2, 8, 8, 3), 256, np.int64), "Values above 255"),
        (np.array([["a", "b", "c"]]), "could not convert|numeric"),
    ],
)
def test_bad_input_raises_a_clear_error(X, match, he_images):
    with pytest.raises(ValueError, match=match):
        StainNormalizer().fit(X)
    fitted = StainNormalizer().fit(he_images)
    with pytest.raises(ValueError, match=match):
        fitted.transform(X)


def test_bad_parameters_and_state(he_images):
    with pytest.raises(NotFittedError):
        StainNormalizer().transform(he_images)
    with pytest.raises(InvalidParameterError):
        StainNormalizer(method="histogram").fit(he_images)
    with pytest.raises(InvalidParameterError):
        StainNormalizer(angle_percentile=50).fit(he_images)
    with pytest.raises(ValueError, match="input_shape must be"):
        StainNormalizer(input_shape=(32, 32)).fit(he_images.reshape(6, -1))
    with pytest.raises(ValueError, match="cannot be reshaped"):
        StainNormalizer(input_shape=(16, 16, 3)).fit(he_images.reshape(6, -1))
    fitted = StainNormalizer().fit(he_images.reshape(6, -1))
    with pytest.raises(ValueError, match="features"):  # 2-D input has no size
        fitted.transform(he_images[:, :16].reshape(6, -1))
    # Fitted for one method, switched to another without refitting.
    with pytest.raises(NotFittedError):
        fitted.set_params(method="reinhard").transform(he_images)


# -- determinism, sklearn contract ----------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_deterministic_and_independent_of_the_batch(method, he_images):
    a = StainNormalizer(method=method).fit(he_images)
    b = StainNormalizer(method=method, n_jobs=2).fit(he_images)
    batch = np.concatenate([he_images] * 6)  # 36 images: two chunks of work
    out = a.transform(batch)
    np.testing.assert_array_equal(out, b.transform(batch))  # threads change nothing
    np.testing.assert_array_equal(out[:5], a.transform(batch[:5]))
    np.testing.assert_array_equal(out[::-1], a.transform(batch[::-1]))


@pytest.mark.parametrize("method", METHODS)
def test_contract_on_rgb_data(method, he_images, tmp_path):
    """The sklearn checks that cannot run on non-RGB toy data, on RGB images."""
    normalizer = StainNormalizer(method=method, input_shape=(32, 32, 3))
    params = normalizer.get_params()
    with pytest.raises(NotFittedError):
        normalizer.transform(he_images)
    flat = he_images.reshape(len(he_images), -1)
    assert normalizer.fit(flat) is normalizer
    assert normalizer.get_params() == params  # fit does not touch parameters
    assert normalizer.n_features_in_ == 32 * 32 * 3
    first = normalizer.transform(flat)
    np.testing.assert_array_equal(clone(normalizer).fit(flat).transform(flat), first)
    np.testing.assert_array_equal(normalizer.fit(flat).transform(flat), first)
    np.testing.assert_array_equal(normalizer.fit_transform(flat), first)

    restored = pickle.loads(pickle.dumps(normalizer))
    np.testing.assert_array_equal(restored.transform(flat), first)

    memmap = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=flat.dtype, shape=flat.shape
    )
    memmap[:] = flat
    memmap.flush()
    readonly = np.load(tmp_path / "x.npy", mmap_mode="r")
    np.testing.assert_array_equal(
        clone(normalizer).fit(readonly).transform(readonly), first
    )
    # Fortran order and a one-image reference.
    np.testing.assert_array_equal(normalizer.transform(np.asfortranarray(flat)), first)
    clone(normalizer).fit(flat[:1]).transform(flat[:1])


def _expected_failed_checks(estimator):
    # scikit-learn's toy data for these checks has 1, 2, 4, 5 or 10 features per
    # sample: not RGB pixels, which the normaliser refuses with a ValueError.
    # test_contract_on_rgb_data runs the same contract on RGB images.
    return {
        "check_estimators_overwrite_params": "toy data has 2 features: not RGB",
        "check_estimators_fit_returns_self": "toy data has 2 features: not RGB",
        "check_readonly_memmap_input": "toy data has 2 features: not RGB",
        "check_n_features_in_after_fitting": "toy data has 4 features: not RGB",
        "check_estimators_dtypes": "toy data has 5 features: not RGB",
        "check_dtype_object": "toy data has 10 features: not RGB",
        "check_fit2d_1sample": "toy data has 10 features: not RGB",
        "check_fit_idempotent": "toy data has 2 features: not RGB",
        "check_fit_check_is_fitted": "toy data has 2 features: not RGB",
        "check_n_features_in": "toy data has 2 features: not RGB",
    }


@parametrize_with_checks(
    [StainNormalizer(method=m) for m in METHODS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    # The toy data is not histology: expect the fallback warnings.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="StainNormalizer", category=UserWarning
        )
        check(estimator)


def test_pipeline_learns_the_target_from_training_folds_only(he_images):
    rng = np.random.RandomState(0)
    c = concentrations(24, 16, seed=6)
    y = np.arange(24) % 2
    c[y == 1, :, 0] *= 1.5  # class 1: darker nuclei
    stains = np.where(rng.rand(24, 1, 1) < 0.5, HE, OTHER_LAB)  # two labs
    X = np.concatenate(
        [render(c[i : i + 1], stains[i], 16) for i in range(24)]
    ).reshape(24, -1)

    pipe = make_pipeline(
        StainNormalizer(input_shape=(16, 16, 3)),
        FunctionTransformer(lambda x: x / 255.0),
        LogisticRegression(max_iter=200),
    )
    search = GridSearchCV(
        pipe, {"stainnormalizer__method": METHODS}, cv=KFold(3), error_score="raise"
    )
    search.fit(X, y)
    assert search.best_params_["stainnormalizer__method"] in METHODS

    cv = KFold(3)
    result = cross_validate(
        pipe, X, y, cv=cv, return_estimator=True, return_indices=True
    )
    for fitted, train in zip(result["estimator"], result["indices"]["train"]):
        by_hand = StainNormalizer(input_shape=(16, 16, 3)).fit(X[train])
        np.testing.assert_array_equal(fitted[0].stain_matrix_, by_hand.stain_matrix_)


def test_imbalanced_learn_pipeline_with_smote_floats():
    imblearn = pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE

    c = concentrations(20, 16, seed=9)
    X = render(c, OTHER_LAB, 16).reshape(20, -1).astype(np.float32)
    y = (np.arange(20) < 5).astype(int)  # 5 positives, 15 negatives
    pipe = imblearn.pipeline.make_pipeline(
        SMOTE(k_neighbors=3, random_state=0),  # blends: floats in [0, 255]
        StainNormalizer(input_shape=(16, 16, 3)),
        FunctionTransformer(lambda x: x / 255.0),
        LogisticRegression(max_iter=200),
    )
    pipe.fit(X, y)
    normalizer = pipe[1]
    assert normalizer.n_features_in_ == 16 * 16 * 3
    out = normalizer.transform(X)
    assert out.dtype == np.float32 and out.shape == X.shape and out.max() <= 255


# -- the solvers against maintained implementations -----------------------------------


def test_codes_match_scikit_learn_positive_lasso(he_images):
    od = sm.optical_density(he_images[:1].reshape(1, -1, 3), 1.0)
    for penalty in (0.0, 0.1):
        ours = sm.nonnegative_codes(od, HE[None], penalty)[0]
        theirs = sparse_encode(
            od[0].astype(float),
            HE,
            algorithm="lasso_cd",
            alpha=max(penalty, 1e-12),
            positive=True,
            max_iter=5000,
        )
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_sparse_factorisation_matches_scikit_learn_dict_learning():
    pixels = render(concentrations(1, 24, seed=7), OTHER_LAB, 24).reshape(1, -1, 3)
    od = sm.optical_density(pixels, 1.0)
    mask = sm.tissue_mask(od, 0.15)
    init, _ = sm.macenko_stains(od, mask, 1.0)
    ours, ok = sm.sparse_nmf_stains(od, mask, init, 0.1, 500, tol=1e-8)
    x = od[0][mask[0]].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coordinate descent convergence notes
        code = sparse_encode(x, init[0], algorithm="lasso_cd", alpha=0.1, positive=True)
        _, theirs, _ = dict_learning(
            x,
            2,
            alpha=0.1,
            max_iter=500,
            tol=1e-8,
            method="cd",
            dict_init=init[0].copy(),
            code_init=code,
            positive_code=True,
            positive_dict=True,
            random_state=0,
            method_max_iter=5000,
        )
    theirs = _unit(theirs)
    theirs = theirs[np.argsort(-theirs[:, 0])]  # hematoxylin (more red) first
    assert ok[0]
    assert np.sum(ours[0] * theirs, axis=1).min() > 0.999


def test_concentrations_match_scikit_image_colour_deconvolution(skimage_color):
    # An image made with scikit-image's own H&E(-DAB) matrix, no DAB.
    rgb_from_hed = skimage_color.rgb_from_hed
    c = concentrations(1, 16, seed=8)
    density = c @ rgb_from_hed[:2] * np.log(10)  # skimage's stains: log10 units
    image = (255 * np.exp(-density)).reshape(1, 16, 16, 3)
    theirs = skimage_color.separate_stains(image[0] / 255, skimage_color.hed_from_rgb)
    # separate_stains divides by log(1e-6); undo it to get natural-log densities.
    theirs = theirs.reshape(-1, 3)[:, :2] * -np.log(1e-6) / np.log(10)
    od = sm.optical_density(image.reshape(1, -1, 3).astype(np.float32), 1.0)
    stains = rgb_from_hed[None, :2] * np.log(10)
    ours = sm.concentrations(od, stains)[0]
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_lab_conversions_match_scikit_image(he_images, skimage_color):
    theirs = skimage_color.rgb2lab(he_images)
    np.testing.assert_allclose(sm.to_lab(he_images, 1.0), theirs, atol=1e-3)
    np.testing.assert_allclose(sm.to_lab(he_images / 255.0, 255.0), theirs, atol=1e-3)
    # Moments matching moves colours out of the sRGB gamut: both clip them.
    shifted = (theirs * 1.3 + 5).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-image warns about the clipping
        expected = skimage_color.lab2rgb(shifted)
    np.testing.assert_allclose(sm.from_lab(shifted), expected, atol=1e-5)
