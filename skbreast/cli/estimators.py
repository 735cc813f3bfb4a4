"""Building the estimators a command compares or trains from ``--models``/``--set``."""

import contextlib

from skbreast.cli.common import CLIError, parse_value

MODEL_DEFAULTS = {
    "cnn": {},
    "resnet": {"filters": (16, 32), "blocks_per_stage": 1},
    # A frozen ImageNet ResNet50 and a tuned logistic regression: set
    # probe.weights=PATH offline, probe.image_size=224 for the backbone's own size.
    "probe": {"backbone": "resnet50", "weights": "auto"},
    # ImageNet MobileNetV2, fine-tuned: set transfer.weights=PATH offline.
    "transfer": {},
}

#: The models ``--models``/``--model`` accept, in the order of the help text.
MODEL_NAMES = tuple(MODEL_DEFAULTS)


def _classes():
    from skbreast import (
        CNNClassifier,
        LinearProbeClassifier,
        ResNetClassifier,
        TransferClassifier,
    )

    return {
        "cnn": CNNClassifier,
        "resnet": ResNetClassifier,
        "probe": LinearProbeClassifier,
        "transfer": TransferClassifier,
    }


def make_estimators(args):
    """Return ``({name: estimator}, {name: params})`` for the parsed ``args``."""
    classes = _classes()
    names = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in classes]
    if unknown or not names:
        raise CLIError(
            f"--models: unknown model(s) {unknown or [args.models]}; choose from "
            f"{sorted(classes)}."
        )
    if args.epochs < 1:
        raise CLIError(f"--epochs must be at least 1, got {args.epochs}.")
    estimators = {}
    for name in dict.fromkeys(names):
        params = dict(MODEL_DEFAULTS[name])
        common = dict(
            epochs=args.epochs,
            random_state=args.random_state,
            verbose=2 if args.verbose else 0,
        )
        # The probe trains no network: it has no epochs and no Keras log.
        accepted = classes[name]().get_params()
        params.update({k: v for k, v in common.items() if k in accepted})
        estimators[name] = classes[name](**params)
    for setting in args.settings:
        key, sep, value = setting.partition("=")
        model, dot, param = key.strip().partition(".")
        if not sep or not dot or not param:
            raise CLIError(
                f"--set {setting!r}: expected MODEL.PARAM=VALUE, e.g. cnn.epochs=30."
            )
        if model not in estimators:
            raise CLIError(
                f"--set {setting!r}: model {model!r} is not among --models "
                f"{list(estimators)}."
            )
        valid = estimators[model].get_params()
        if param not in valid:
            raise CLIError(
                f"--set {setting!r}: {type(estimators[model]).__name__} has no "
                f"parameter {param!r}; valid: {', '.join(sorted(valid))}."
            )
        estimators[model].set_params(**{param: parse_value(value.strip())})
    for name, est in estimators.items():
        try:
            est._validate_params()
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{name}: {exc}") from None
    params = {
        name: {
            k: v
            for k, v in est.get_params().items()
            if k not in ("callbacks", "verbose")
        }
        for name, est in estimators.items()
    }
    for name in ("probe", "transfer"):
        if name in estimators:
            # Which weights the report's numbers come from: file name and SHA-256.
            params[name]["weights_used"] = _weights_used(estimators[name])
    return estimators, params


def _weights_used(estimator):
    from skbreast.models import describe_weights

    try:
        return describe_weights(estimator.backbone, estimator.weights)
    except (TypeError, ValueError, OSError) as exc:
        raise CLIError(f"{type(estimator).__name__}: {exc}") from None


def make_estimator(model, settings, epochs, random_state, verbose=0):
    """Return ``(estimator, params)``: one model from ``--model`` and ``--set``.

    ``settings`` are ``PARAM=VALUE`` or ``MODEL.PARAM=VALUE`` strings.
    """
    import argparse

    model = model.strip().lower()
    qualified = []
    for setting in settings:
        key = setting.partition("=")[0]
        qualified.append(setting if "." in key else f"{model}.{setting.strip()}")
    args = argparse.Namespace(
        models=model,
        epochs=epochs,
        random_state=random_state,
        verbose=False,
        settings=qualified,
    )
    try:
        estimators, params = make_estimators(args)
    except CLIError as exc:
        message = str(exc)
        for mine, given in zip(qualified, settings):
            message = message.replace(repr(mine), repr(given.strip()))
        raise CLIError(message.replace("--models", "--model")) from None
    estimator = estimators[model]
    if "verbose" in estimator.get_params():
        estimator.set_params(verbose=verbose)
    return estimator, params[model]


@contextlib.contextmanager
def model_file_errors(path):
    """Turn the errors of reading the model file ``path`` into one-line CLIErrors."""
    try:
        yield
    except FileNotFoundError:
        raise CLIError(f"No such model file: {path!r}.") from None
    except IsADirectoryError:
        raise CLIError(f"{path!r} is a folder, not a model file.") from None
    except PermissionError:
        raise CLIError(f"Cannot read {path!r}: permission denied.") from None
    except ValueError as exc:  # FileFormatError: corrupt, foreign or newer files
        raise CLIError(str(exc).splitlines()[0]) from None


def load_model_file(path):
    """Return the estimator in the model file ``path``; errors as one line."""
    import warnings

    import skbreast
    from skbreast.cli.common import plain_path, warn

    path = plain_path(path)
    with model_file_errors(path), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator = skbreast.load(path)
    for w in caught:
        if issubclass(w.category, UserWarning) and "skbreast" in str(w.message):
            warn(str(w.message))
    if not hasattr(estimator, "model_"):
        raise CLIError(f"{path!r} holds an unfitted {type(estimator).__name__}.")
    return estimator
