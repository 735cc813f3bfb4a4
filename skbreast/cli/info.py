"""``skbreast info``: print the model card of a model file, without loading the model.

Neither Keras nor TensorFlow is imported: it answers in a fraction of a second.
"""

import json
import textwrap

from skbreast.cli.common import add_verbosity_flags, plain_path

#: Runs without Keras or TensorFlow (see skbreast.cli.main).
NEEDS_FRAMEWORK = False

# The card's keys in the order printed, with their labels; others follow.
_ORDER = {
    "description": "Description",
    "estimator": "Model",
    "classes": "Classes",
    "image_size": "Image size",
    "preprocessing": "Preprocessing",
    "training_data": "Training data",
    "cross_validation": "Cross-validation",
    "fit": "Fit",
    "training_time_s": "Training time (s)",
    "created": "Created",
    "command": "Command",
    "versions": "Versions",
    "params": "Parameters",
}
_HIDDEN = {"card_version", "fitted"}


def add_parser(sub):
    """Add the ``info`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "info",
        help="print the model card of a model file",
        description="Print the model card stored in a model file written by "
        "'skbreast train' or skbreast.save: classes, image size, preprocessing, "
        "training data, cross-validated metrics, versions, date and command line. "
        "The model itself is not loaded.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.skb)")
    parser.add_argument(
        "--json", action="store_true", help="print the card as JSON instead"
    )
    add_verbosity_flags(parser)


def _scalar(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value)
    return "n/a" if value is None else str(value)


def _lines(value, indent):
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                if set(item) >= {"mean", "std"}:  # a metric summary
                    folds = item.get("folds") or []
                    text = f"{_scalar(item['mean'])} ± {_scalar(item['std'])}"
                    if folds:
                        text += f" (folds: {_scalar(folds)})"
                    yield f"{pad}{key}: {text}"
                elif all(not isinstance(v, dict | list) for v in item.values()):
                    inner = ", ".join(f"{k} {_scalar(v)}" for k, v in item.items())
                    if len(pad) + len(key) + len(inner) < 88:
                        yield f"{pad}{key}: {inner}"
                    else:
                        yield f"{pad}{key}:"
                        yield from _lines(item, indent + 1)
                else:
                    yield f"{pad}{key}:"
                    yield from _lines(item, indent + 1)
            else:
                yield f"{pad}{key}: {_scalar(item)}"
    else:
        yield f"{pad}{_scalar(value)}"


def format_card(card, path):
    """Return the model card as text, one field per line."""
    lines = [path]
    keys = [k for k in _ORDER if k in card]
    keys += [k for k in card if k not in _ORDER and k not in _HIDDEN]
    for key in keys:
        label = _ORDER.get(key, key.replace("_", " ").capitalize())
        value = card[key]
        if key == "estimator":
            value = f"{value} ({'fitted' if card.get('fitted', True) else 'unfitted'})"
        elif key == "image_size" and isinstance(value, list):
            value = "x".join(str(d) for d in value) + " (height x width x channels)"
        if key == "params" and isinstance(value, dict):
            text = ", ".join(f"{k}={json.dumps(v)}" for k, v in value.items())
            lines.append(f"{label}:")
            lines.append(
                textwrap.fill(text, 88, initial_indent="  ", subsequent_indent="  ")
            )
        elif isinstance(value, dict):
            lines.append(f"{label}:")
            lines += list(_lines(value, 1))
        else:
            lines.append(f"{label}: {_scalar(value)}")
    return "\n".join(lines)


def run(args, argv):
    """Run the ``info`` command; return the exit status."""
    from skbreast import read_model_card
    from skbreast.cli.estimators import model_file_errors

    path = plain_path(args.model)
    with model_file_errors(path):
        card = read_model_card(path)
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        print(format_card(card, path))
    return 0
