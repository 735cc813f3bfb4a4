"""Building the estimators a command compares or trains from ``--models``/``--set``."""

from skbreast.cli.common import CLIError, parse_value

MODEL_DEFAULTS = {
    "cnn": {},
    "resnet": {"filters": (16, 32), "blocks_per_stage": 1},
}


def make_estimators(args):
    """Return ``({name: estimator}, {name: params})`` for the parsed ``args``."""
    from skbreast import CNNClassifier, ResNetClassifier

    classes = {"cnn": CNNClassifier, "resnet": ResNetClassifier}
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
        params.update(
            epochs=args.epochs,
            random_state=args.random_state,
            verbose=2 if args.verbose else 0,
        )
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
    return estimators, params
