"""The model card: what a fitted estimator is, as plain JSON stored in its file.

:func:`build_model_card` fills in what the estimator knows about itself (classes,
image size, preprocessing, parameters, the fit, versions, date); callers add what
only they know (``skbreast train`` adds the training data, cross-validated metrics
and its command line). The card is tied to the fit it describes: a later ``fit``
or ``partial_fit`` makes it unavailable rather than wrong.
"""

import datetime
import json
import math
import numbers

#: Bumped when the card's fields change meaning.
CARD_VERSION = 1

#: Keys the estimator fills in; a caller's card cannot replace them.
RESERVED_KEYS = frozenset(
    {
        "card_version",
        "estimator",
        "fitted",
        "classes",
        "image_size",
        "params",
        "fit",
        "versions",
        "created",
        "weights",
    }
)


def fit_token(estimator):
    """Return what identifies the current fit of ``estimator`` (JSON-comparable).

    Any later fit changes the epoch count or the last training loss, so a card
    whose token differs describes another fit.
    """
    history = getattr(estimator, "history_", None) or {}
    losses = history.get("loss") or [None]
    last = losses[-1]
    n_iter = int(getattr(estimator, "n_iter_", -1))
    return [n_iter, None if last is None else repr(last)]


def plain(value):
    """Return ``value`` as plain JSON data (tuples as lists, NumPy as Python)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays, scalars
        return plain(value.tolist())
    if isinstance(value, type):
        return value.__name__
    return repr(value)


def check_user_card(card):
    """Validate a caller's card: a dict of JSON values whose keys are not reserved."""
    if card is None:
        return {}
    if not isinstance(card, dict):
        raise TypeError(f"model_card must be a dict, got {type(card).__name__}.")
    clash = sorted(RESERVED_KEYS & set(card))
    if clash:
        raise ValueError(
            f"model_card cannot set {clash}: the estimator fills them in itself."
        )
    try:
        json.dumps(card, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"model_card must hold JSON data only (str, numbers, bool, None, lists, "
            f"dicts with str keys): {exc}"
        ) from None
    return dict(card)


def _preprocessing(estimator):
    height, width, channels = (int(d) for d in estimator.image_shape_)
    scale = float(getattr(estimator, "input_scale_", 1.0))
    pixels = (
        "uint8 pixel values 0-255"
        if math.isclose(scale, 1 / 255, rel_tol=1e-6)
        else f"pixel values multiplied by {scale:g} inside the model"
    )
    return {
        "input": f"{height}x{width} {'RGB' if channels == 3 else 'grayscale'} images, "
        f"{pixels}",
        "resize": f"image files are resized to {height}x{width} (bilinear, "
        "antialiased) when read",
        "scaling": f"x{scale:g} inside the model (pass raw pixels)",
        "test_time_augmentation": bool(getattr(estimator, "tta", False)),
    }


def build_model_card(estimator, user_card=None, versions=None):
    """Return the model card of the fitted ``estimator``, with ``user_card`` added."""
    params = {
        k: v
        for k, v in estimator.get_params(deep=False).items()
        if k not in ("callbacks", "verbose")
    }
    history = getattr(estimator, "history_", None) or {}
    summary = getattr(estimator, "_fit_summary", None)
    # A linear probe has no epochs: it describes its own fit (its chosen C).
    if summary is not None:
        fit = plain(summary())
    else:
        fit = {"epochs": int(estimator.n_iter_)}
    best = getattr(estimator, "best_epoch_", None)
    if best is not None:
        fit["best_epoch"] = int(best)
    # The probability of classes[1] above which predict gives it (binary).
    threshold = getattr(estimator, "threshold_", None)
    if threshold is not None:
        fit["threshold"] = float(threshold)
    for key in ("loss", "val_loss"):
        if history.get(key):
            fit[f"final_{key}"] = plain(history[key][-1])
    card = {
        "card_version": CARD_VERSION,
        "estimator": type(estimator).__name__,
        "fitted": True,
        "classes": [str(c) for c in estimator.classes_],
        "image_size": [int(d) for d in estimator.image_shape_],
        "preprocessing": _preprocessing(estimator),
        "params": plain(params),
        "fit": fit,
        "versions": plain(versions or {}),
        "created": datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
    }
    # Where a pretrained backbone's weights came from: file name and SHA-256.
    weights = getattr(estimator, "backbone_weights_", None)
    if weights is not None:
        card["weights"] = plain(weights)
    card.update(check_user_card(user_card))
    return card


def attach(estimator, card):
    """Tie ``card`` to the current fit of ``estimator`` (see ``model_card_``)."""
    estimator._model_card = {"card": card, "fit": fit_token(estimator)}


def attached(estimator):
    """Return the card tied to the current fit of ``estimator``, or None."""
    stored = vars(estimator).get("_model_card")
    if not stored or "model_" not in vars(estimator):
        return None
    if stored.get("fit") != fit_token(estimator):
        return None
    return stored["card"]
