"""Shortcut checks of a comparison: baselines, colour sensitivity, their verdicts.

Three questions a reviewer asks of any histopathology benchmark, answered on the
folds of the comparison itself:

- *What does a model that sees only colour, or only a thumbnail, get?* The
  trivial baselines of :mod:`skbreast.model_selection._baselines` run on the same
  folds as the models; when one of them reaches the best model's ROC AUC within
  the comparison's uncertainty, or 0.85 on its own, the classes are separable by
  colour or coarse intensity alone, and the result says so in words.
- *Does a model's score survive a change of stain?* Every fold's test images are
  scored as they are, stain-normalised to a target learnt from that fold's
  training images (:class:`~skbreast.preprocessing.StainNormalizer`), and under
  strong H&E colour jitter; a model whose ROC AUC moves by more than its
  fold-to-fold spread is flagged as colour-dependent.

The jitter is the perturbation of :class:`skbreast.models.RandomStainJitter`
(Tellez et al., 2018), written here in NumPy so that this module needs no Keras;
its strength, 0.2, is Tellez et al.'s (2019) "HED-strong" setting (the layer's
training default is 0.05, "HED-light").
"""

import time
import warnings

import numpy as np
from sklearn.utils import Bunch

from skbreast.datasets._imageio import is_path_input
from skbreast.model_selection._format import MINUS, Table, signed
from skbreast.model_selection._result_stats import interval

#: Names of the default baselines, in the order they run and are reported.
BASELINE_NAMES = ("colour-histogram", "thumbnail")
#: A baseline at or above this ROC AUC triggers the warning whatever the models do.
HIGH_AUC = 0.85
#: Strength of the HED jitter of the colour check (Tellez et al.'s HED-strong).
JITTER_STRENGTH = 0.2
#: Stain normalisation method of the colour check.
NORMALISER = "macenko"
#: A change of ROC AUC smaller than this is never called colour dependence, even
#: when the folds agree exactly (a spread of 0).
MIN_CHANGE = 0.01
VARIANTS = ("normalised", "jittered")
VARIANT_LABELS = {
    "normalised": f"stain-normalised ({NORMALISER.capitalize()}, target from the "
    "training fold)",
    "jittered": f"HED colour jitter (strength {JITTER_STRENGTH})",
}

# Ruifrok and Johnston's H, E and DAB optical-density vectors, as in
# skbreast.models.RandomStainJitter and skimage.color.rgb_from_hed.
_RGB_FROM_HED = np.array(
    [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]], dtype=np.float32
)
_HED_FROM_RGB = np.linalg.inv(_RGB_FROM_HED).astype(np.float32)
_MIN_INTENSITY = 1e-3
_CHUNK = 256


# ----------------------------------------------------------------- the baselines
def input_shape_of(estimators):
    """Return the first ``input_shape`` set on the estimators (or their steps)."""
    for est in estimators.values():
        try:
            params = est.get_params(deep=True)
        except Exception:  # noqa: BLE001 - an estimator without get_params
            continue
        for key, value in params.items():
            if (key == "input_shape" or key.endswith("__input_shape")) and (
                value is not None
            ):
                return tuple(int(v) for v in np.ravel(value))
    return None


def image_layout(X, estimators):
    """Return ``(kind, image_shape)``: "paths", "images" (4-D) or "flat" (2-D).

    ``image_shape`` is ``(height, width, channels)`` of one image (None for
    paths). Flattened rows take the ``input_shape`` of the estimators, else the
    estimators' rule: a square RGB image, else a square grey one. Raises if
    ``X`` holds no images.
    """
    if is_path_input(X):
        return "paths", None
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        X = np.asarray(X)
        ndim = X.ndim
    if ndim == 4:
        return "images", tuple(X.shape[1:])
    if ndim == 2:
        n_features = X.shape[1]
        shape = input_shape_of(estimators)
        if shape is not None and int(np.prod(shape)) == n_features:
            return "flat", shape
        for channels in (3, 1):
            side = int(round(np.sqrt(n_features / channels)))
            if side > 1 and side * side * channels == n_features:
                return "flat", (side, side, channels)
    raise ValueError(
        "The shortcut checks (baselines=True, colour_check=True) need images: a "
        "4-D array (n, height, width, channels), flattened images with an "
        "estimator's input_shape, or image file paths; X has shape "
        f"{tuple(np.shape(X))}. For other features pass baselines=False (or "
        "your own baselines as a dict)."
    )


def default_baselines(X, estimators):
    """Return ``{name: baseline}``: the two default baselines, set up for ``X``."""
    from skbreast.model_selection._baselines import (
        colour_histogram_baseline,
        thumbnail_baseline,
    )

    kind, shape = image_layout(X, estimators)
    input_shape = shape if kind == "flat" else None
    return {
        "colour-histogram": colour_histogram_baseline(input_shape=input_shape),
        "thumbnail": thumbnail_baseline(input_shape=input_shape),
    }


# ---------------------------------------------------------------- colour check
def hed_jitter(images, strength=JITTER_STRENGTH, random_state=0):
    """Return ``images`` with every image's H, E and DAB concentrations perturbed.

    The perturbation of :class:`skbreast.models.RandomStainJitter`: each
    concentration ``c`` becomes ``alpha * c + beta`` with ``alpha ~ U(1 - s,
    1 + s)`` and ``beta ~ U(-s, s)`` per image and stain, drawn from
    ``numpy.random.default_rng(random_state)``.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3)
        uint8, or floats in [0, 1] or [0, 255].
    strength : float
        ``s`` above.
    random_state : int
        Seed of the draws: the same seed, the same jitter.

    Returns
    -------
    jittered : ndarray of the dtype and value range of ``images``
    """
    images = np.asarray(images)
    rng = np.random.default_rng(random_state)
    n = len(images)
    alpha = rng.uniform(1 - strength, 1 + strength, (n, 1, 1, 3)).astype(np.float32)
    beta = rng.uniform(-strength, strength, (n, 1, 1, 3)).astype(np.float32)
    if images.dtype.kind == "f":
        scale = 1.0 if (images.size == 0 or float(images.max()) <= 1.0) else 255.0
    else:
        scale = 255.0
    out = np.empty(images.shape, dtype=images.dtype)
    for start in range(0, n, _CHUNK):
        stop = start + _CHUNK
        x = images[start:stop].astype(np.float32) / np.float32(scale)
        density = -np.log(np.clip(x, _MIN_INTENSITY, 1.0))
        stains = density @ _HED_FROM_RGB
        stains = stains * alpha[start:stop] + beta[start:stop]
        x = np.clip(np.exp(-(stains @ _RGB_FROM_HED)), 0.0, 1.0) * np.float32(scale)
        if images.dtype.kind != "f":
            x = np.rint(x)
        out[start:stop] = x
    return out


def _as_images(X, kind, shape):
    X = np.asarray(X)
    return X if kind == "images" else X.reshape((len(X), *shape))


def colour_variants(X, splits, estimators, random_state):
    """Return the colour-check test sets of every split, and what it cost.

    Returns
    -------
    check : Bunch
        ``sets`` (per split, ``{"normalised": X_test, "jittered": X_test}`` in
        the layout of ``X``), ``notes`` (what the normaliser could not do),
        ``time`` (seconds spent making them).
    """
    from sklearn.utils import _safe_indexing

    from skbreast.preprocessing import StainNormalizer

    kind, shape = image_layout(X, estimators)
    if kind == "paths":
        raise ValueError(
            "colour_check=True needs the images as an array: X holds file paths. "
            "Decode them first (e.g. skbreast.datasets.load_breakhis without "
            "return_paths) or pass colour_check=False."
        )
    if shape[-1] != 3:
        raise ValueError(
            "colour_check=True perturbs H&E colour and needs RGB images; X has "
            f"images of shape {shape}. Pass colour_check=False for grey images."
        )
    start = time.perf_counter()
    sets, notes = [], []
    for k, (train, test) in enumerate(splits):
        X_train = _as_images(_safe_indexing(X, train), kind, shape)
        X_test = _as_images(_safe_indexing(X, test), kind, shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            normalised = (
                StainNormalizer(method=NORMALISER).fit(X_train).transform(X_test)
            )
        for w in caught:
            if issubclass(w.category, UserWarning):
                notes.append(f"split {k + 1}: {w.message}")
        jittered = hed_jitter(X_test, JITTER_STRENGTH, random_state=(random_state, k))
        if kind == "flat":
            normalised = normalised.reshape(len(test), -1)
            jittered = jittered.reshape(len(test), -1)
        sets.append({"normalised": normalised, "jittered": jittered})
    return Bunch(sets=sets, notes=notes, time=time.perf_counter() - start)


def colour_table(result):
    """Return the colour-sensitivity table of a result (``colour_sensitivity``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(20), 4)
    >>> y = groups % 2
    >>> images = rng.randint(60, 200, (80, 8, 8, 3)).astype(np.uint8)
    >>> images[y == 1, :, :, 0] -= 50  # the classes differ in colour
    >>> mean_colour = FunctionTransformer(lambda X: X.mean(axis=(1, 2)))
    >>> result = compare_models(
    ...     {"colour": make_pipeline(mean_colour, LogisticRegression())},
    ...     images, y, groups=groups, cv=4, random_state=0,
    ...     colour_check=True)
    >>> table = result.colour_sensitivity()
    >>> table["colour_dependent"], table["normalised_change"][0] < -0.5
    ([True], True)
    >>> result.colour_dependent
    {'colour': True}
    """
    columns = {
        c: []
        for c in (
            "model",
            "role",
            "roc_auc_mean",
            "roc_auc_sd",
            "normalised_change",
            "normalised_change_sd",
            "jittered_change",
            "jittered_change_sd",
            "colour_dependent",
            "verdict",
        )
    }
    for name in result.names + result.baselines:
        auc = result.colour_scores[name]
        original = auc["original"]
        defined = original[np.isfinite(original)]
        mean = float(defined.mean()) if len(defined) else np.nan
        spread = float(defined.std(ddof=1)) if len(defined) > 1 else np.nan
        row = {
            "model": name,
            "role": result.role(name),
            "roc_auc_mean": mean,
            "roc_auc_sd": spread,
        }
        moved = []
        for variant in VARIANTS:
            change = auc[variant] - original
            change = change[np.isfinite(change)]
            m = float(change.mean()) if len(change) else np.nan
            row[f"{variant}_change"] = m
            row[f"{variant}_change_sd"] = (
                float(change.std(ddof=1)) if len(change) > 1 else np.nan
            )
            if np.isfinite(m) and np.isfinite(spread):
                if abs(m) > max(spread, MIN_CHANGE):
                    moved.append(variant)
        if not np.isfinite(spread) or not np.isfinite(row["jittered_change"]):
            dependent, verdict = (
                None,
                ("n/a: ROC AUC is defined on fewer than two folds"),
            )
        elif moved:
            dependent = True
            what = " and ".join(
                {"normalised": "stain normalisation", "jittered": "colour jitter"}[v]
                for v in moved
            )
            verdict = (
                f"colour-dependent: {what} move{'s' if len(moved) == 1 else ''} "
                f"its ROC AUC by more than the fold-to-fold spread ({spread:.3f})"
            )
        else:
            dependent = False
            verdict = (
                "stable: both changes are within the fold-to-fold spread "
                f"({spread:.3f})"
            )
        row["colour_dependent"] = dependent
        row["verdict"] = verdict
        for c, v in row.items():
            columns[c].append(v)
    return Table(columns)


# --------------------------------------------------------------- shortcut check
def shortcut_rows(result, confidence_level, n_resamples):
    """Per baseline: its ROC AUC, the best model's, their paired difference.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(20), 4)
    >>> y = groups % 2
    >>> images = rng.randint(0, 80, (80, 8, 8, 3)).astype(np.uint8)
    >>> images[y == 1, :, :, 0] += 120  # the classes differ in redness only
    >>> with warnings.catch_warnings(record=True):  # the shortcut warning
    ...     result = compare_models([DummyClassifier()], images, y,
    ...                             groups=groups, cv=4, random_state=0,
    ...                             baselines=True)
    >>> check = result.shortcut_check()
    >>> check["baseline"], check["fires"]
    (['colour-histogram', 'thumbnail'], [True, True])
    >>> result.summary().warnings == [result.shortcut_warning]
    True
    """
    columns = {
        c: []
        for c in (
            "baseline",
            "roc_auc_mean",
            "roc_auc_sd",
            "roc_auc",
            "ci_low",
            "ci_high",
            "best_model",
            "best_roc_auc",
            "difference",
            "difference_ci_low",
            "difference_ci_high",
            "fires",
            "reason",
        )
    }
    aucs = {}
    for name in result.names:
        estimates, _, _ = result._distributions(name, n_resamples)
        aucs[name] = estimates["roc_auc"]
    finite = {n: a for n, a in aucs.items() if np.isfinite(a)}
    best = max(finite, key=finite.get) if finite else None
    for baseline in result.baselines:
        folds = result.fold_scores[baseline]["roc_auc"]
        defined = folds[np.isfinite(folds)]
        mean = float(defined.mean()) if len(defined) else np.nan
        estimates, values, resampler = result._distributions(baseline, n_resamples)
        ci = interval(
            estimates["roc_auc"],
            values["roc_auc"],
            resampler,
            n_resamples,
            confidence_level,
        )
        auc = float(ci.estimate)
        lo, hi = ci.confidence_interval
        diff, dlo, dhi = np.nan, np.nan, np.nan
        if best is not None:
            c = result.compare(
                best,
                baseline,
                metric="roc_auc",
                confidence_level=confidence_level,
                n_resamples=n_resamples,
            )
            diff = float(c.bootstrap.estimate)
            dlo, dhi = (float(v) for v in c.bootstrap.confidence_interval)
            if not np.isfinite(dlo):
                dlo, dhi = (float(v) for v in c.confidence_interval)
        # The baseline must separate the classes itself: two models at chance
        # within each other's uncertainty say nothing about colour.
        informative = lo > 0.5 if np.isfinite(lo) else auc >= 0.7
        high = any(np.isfinite(v) and v >= HIGH_AUC for v in (auc, mean))
        if best is None:
            close = False
        elif np.isfinite(dlo):
            close = dlo <= 0
        else:
            close = auc >= finite[best]
        level = f"{confidence_level:.0%}"
        if not informative and not high:
            fires = False
            reason = (
                f"its ROC AUC ({auc:.3f}) does not exclude chance"
                if np.isfinite(auc)
                else "its ROC AUC is undefined"
            )
        elif close or high:
            fires = True
            parts = []
            if high:
                which = (
                    f"its pooled ROC AUC, {auc:.3f},"
                    if auc >= HIGH_AUC
                    else f"its mean ROC AUC over folds, {mean:.3f},"
                )
                parts.append(f"{which} reaches {HIGH_AUC} on its own")
            if close and best is not None:
                parts.append(
                    f"the {level} CI of {best} {MINUS} {baseline} "
                    f"({signed(dlo)} to {signed(dhi)}) "
                    + ("includes 0" if dhi >= 0 else "favours the baseline")
                )
            reason = "; ".join(parts)
        else:
            fires = False
            reason = (
                f"{best} is better: the {level} CI of {best} {MINUS} "
                f"{baseline} is {signed(dlo)} to {signed(dhi)}"
            )
        row = {
            "baseline": baseline,
            "roc_auc_mean": mean,
            "roc_auc_sd": float(defined.std(ddof=1)) if len(defined) > 1 else np.nan,
            "roc_auc": auc,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "best_model": best,
            "best_roc_auc": float(finite[best]) if best is not None else np.nan,
            "difference": diff,
            "difference_ci_low": dlo,
            "difference_ci_high": dhi,
            "fires": bool(fires),
            "reason": reason,
        }
        for c, v in row.items():
            columns[c].append(v)
    return Table(columns)


def mixed_patient_share(y, groups):
    """Return the share of images whose patient has images of both classes.

    None without patients. On such data (IDC: patches of tumour and of normal
    tissue from one slide) a colour difference between the classes lies within
    slides, which share their staining and scanning: it cannot be a batch
    effect alone, and can be pathology (denser, haematoxylin-rich tumour).

    Examples
    --------
    >>> mixed_patient_share([0, 1, 0, 0], ["a", "a", "b", "b"])
    0.5
    >>> mixed_patient_share(["benign", "malignant"], ["a", "a"])
    1.0
    """
    if groups is None:
        return None
    # Inverse indices: labels of any type (strings too) and any two classes.
    _, label = np.unique(np.asarray(y), return_inverse=True)
    _, patient = np.unique(np.asarray(groups), return_inverse=True)
    classes = np.zeros((patient.max() + 1, label.max() + 1), dtype=bool)
    classes[patient, label] = True
    return float(np.mean(classes.all(axis=1)[patient]))


def shortcut_sentence(table, external, mixed_share=None):
    """Return the warning in words, or None when no baseline fires.

    ``mixed_share`` (:func:`mixed_patient_share`) of one half or more adds that
    the colour cue lies partly within slides.
    """
    fired = [i for i, fires in enumerate(table["fires"]) if fires]
    if not fired:
        return None
    described = []
    for i in fired:
        name = table["baseline"][i]
        what = {
            "colour-histogram": "colour histograms alone",
            "thumbnail": "21x32-pixel thumbnails alone",
        }.get(name, "trivial features")
        described.append(f"{name}, on {what}: {table['reason'][i]}")
    best = table["best_model"][fired[0]]
    best_text = (
        f" (the best model, {best}, has a pooled ROC AUC of "
        f"{table['best_roc_auc'][fired[0]]:.3f})"
        if best is not None
        else ""
    )
    return (
        "Possible shortcut: a trivial baseline that never looks at tissue "
        f"structure does as well as the models{best_text}. "
        + "; ".join(described)
        + ". The classes are separable by colour or coarse intensity alone in this "
        "data. Such cues often come from staining or "
        "scanning batches (the lab, day or scanner of each class or patient), not "
        "from pathology, and a model can learn them instead of the tissue: these "
        "scores do not show that a model recognises cancer. "
        + (
            f"Here {mixed_share:.0%} of the images belong to patients with images "
            "of both classes, so the cue lies partly within slides, which share "
            "their staining: it can be pathology (tumour is denser in "
            "haematoxylin-stained nuclei), and the baseline is then the bar a "
            "model must clear, not proof of a batch effect. "
            if mixed_share is not None and mixed_share >= 0.5
            else ""
        )
        + "The result needs validation on other patients or sites"
        + (
            " (see the external validation below)."
            if external
            else " (compare_models(..., X_test=, y_test=, groups_test=) or "
            "skbreast benchmark --test-data)."
        )
    )


def shortcut_check(result, confidence_level, n_resamples):
    """Return ``Bunch(table, warning)``: :func:`shortcut_rows` and its verdict."""
    if not result.baselines:
        raise ValueError(
            "The comparison ran no baselines: pass baselines=True to compare_models."
        )
    table = shortcut_rows(result, confidence_level, n_resamples)
    warning = shortcut_sentence(
        table,
        external=result.external is not None,
        mixed_share=mixed_patient_share(result.y, result.groups),
    )
    return Bunch(table=table, warning=warning)
