"""``skbreast predict``: score image files and folders with a model file, to CSV.

One row per image: its path, the predicted label, one probability per class and
an error column. The label is what the model's ``predict`` gives: for a binary
model, the second class where its probability exceeds the model's ``threshold_``
(0.5 unless tuned in fit), else the most probable class. Unreadable files get an
error and no prediction, and the run goes on (unless ``--strict``). The CSV is
written under a temporary name and renamed when complete, so an interrupted run
never leaves half a file.
"""

import csv
import os
import sys
import time

from skbreast.cli.common import (
    CLIError,
    HelpFormatter,
    add_verbosity_flags,
    atomic_output,
    check_output,
    check_output_folder,
    log,
    plain_path,
    progress,
    warn,
)

DEFAULT_BATCH_SIZE = 128
# Grad-CAM overlays smaller than this (pixels, longer side) are enlarged.
_OVERLAY_SIDE = 256


def add_parser(sub):
    """Add the ``predict`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "predict",
        help="predict image files or folders with a model file, to CSV",
        description="Predict every image named or found (recursively) under the "
        "folders given. Images are resized to the model's input size. The CSV has "
        "the columns path, label (the predicted class, as the model's predict gives "
        "it: for a binary model the second class where its probability exceeds "
        "the model's threshold_, which the log states; otherwise the most probable "
        "class), proba_<class> for every class and error; unreadable files get an "
        "error and no prediction.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.skb)")
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders"
    )
    parser.add_argument(
        "--out",
        metavar="CSV",
        default=None,
        help="CSV file to write; default: standard output",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help="images decoded and predicted at once",
    )
    parser.add_argument(
        "--tta",
        action="store_true",
        help="test-time augmentation: average over flips and 90-degree turns",
    )
    parser.add_argument(
        "--gradcam",
        metavar="DIR",
        default=None,
        help="also write a Grad-CAM overlay PNG of every image into DIR (the "
        "model's input, enlarged to about 256 pixels)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error at the first unreadable file",
    )
    parser.add_argument(
        "--image-cache",
        metavar="DIR",
        default=None,
        help="keep the decoded, resized images in DIR, so a second run over the "
        "same files decodes nothing (default: the SKBREAST_IMAGE_CACHE variable; "
        "none)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --out file, write into a non-empty --gradcam DIR",
    )
    add_verbosity_flags(parser)


def _read_batch(paths, image_shape):
    """Return ``(images, errors)``: the readable images and ``{index: message}``."""
    import numpy as np

    from skbreast.datasets import get_image_cache
    from skbreast.datasets._image_cache import ImageCache
    from skbreast.datasets._imageio import read_image, read_images

    size, channels = tuple(image_shape[:2]), int(image_shape[2])
    folder = get_image_cache()
    try:
        if folder is None:
            images, kept = read_images(paths, size, channels, on_error="skip")
        else:
            cache = ImageCache(folder, size, channels)
            images, kept = cache.read_images(paths, on_error="skip")
    except OSError:  # a file vanished or cannot be opened: go one by one
        kept = None
    if kept is not None:
        errors = {}
        for i in np.flatnonzero(~kept):  # read again, for the reason
            errors[int(i)] = _read_error(paths[i], size, channels, read_image)
        return images, errors
    images, errors = [], {}
    for i, path in enumerate(paths):
        try:
            images.append(read_image(path, size, channels))
        except (OSError, ValueError) as exc:
            errors[i] = _error_text(exc, path)
    shape = (len(images), *size, channels)
    stacked = np.stack(images) if images else np.empty(shape, dtype=np.uint8)
    return stacked, errors


def _read_error(path, size, channels, read_image):
    try:
        read_image(path, size, channels)
    except (OSError, ValueError) as exc:
        return _error_text(exc, path)
    return "unreadable image"


def _error_text(exc, path):
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {path!r}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {path!r}"
    return str(exc).splitlines()[0]


def gradcam_names(files, folder):
    """Return the overlay PNG path of each ``(file, root)`` in ``folder``, unique.

    Files found under a folder keep their path relative to it; files named
    directly keep their name.
    """
    taken, names = set(), []
    for path, root in files:
        if root is None:
            rel = os.path.basename(path)
        else:
            rel = os.path.relpath(path, root)
        base = os.path.join(folder, os.path.splitext(rel)[0])
        name, k = f"{base}.png", 1
        while name in taken:
            name, k = f"{base}-{k}.png", k + 1
        taken.add(name)
        names.append(name)
    return names


def _write_overlays(estimator, images, names):
    import matplotlib.image

    from skbreast.inspection import gradcam, overlay_gradcam

    try:
        heat = gradcam(estimator, images)
    except NotImplementedError as exc:
        raise CLIError(f"--gradcam: {exc}") from None
    overlays = overlay_gradcam(images, heat)
    # Enlarged by whole pixels (no interpolation) so that small inputs are visible.
    factor = max(1, _OVERLAY_SIDE // max(overlays.shape[1:3]))
    if factor > 1:
        overlays = overlays.repeat(factor, axis=1).repeat(factor, axis=2)
    for name, overlay in zip(names, overlays):
        os.makedirs(os.path.dirname(name), exist_ok=True)
        matplotlib.image.imsave(name, overlay)


def _predict_rows(estimator, files, args, overlay_names):
    """Yield one CSV row per file, batch by batch, under a progress bar."""
    import numpy as np

    classes = estimator.classes_
    threshold = binary_threshold(estimator)
    batch_size = args.batch_size
    with progress(len(files), "Predicting") as bar:
        for start in range(0, len(files), batch_size):
            batch = [path for path, _ in files[start : start + batch_size]]
            images, errors = _read_batch(batch, estimator.image_shape_)
            if errors and args.strict:
                first = min(errors)
                raise CLIError(f"{errors[first]} (--strict stops at unreadable files)")
            proba = estimator.predict_proba(images) if len(images) else None
            if overlay_names is not None and len(images):
                ok = [start + i for i in range(len(batch)) if i not in errors]
                _write_overlays(estimator, images, [overlay_names[i] for i in ok])
            j = 0
            for i, path in enumerate(batch):
                if i in errors:
                    yield [path, ""] + [""] * len(classes) + [errors[i]]
                    continue
                p = proba[j]
                j += 1
                if threshold is None:
                    label = classes[int(np.argmax(p))]
                else:
                    label = classes[int(p[1] > threshold)]
                yield [path, str(label)] + [f"{v:.6f}" for v in p] + [""]
            bar.update(len(batch))


def binary_threshold(estimator):
    """Return the probability threshold of a binary model's ``predict``, or None.

    ``predict`` gives ``classes_[1]`` where its probability exceeds
    ``threshold_`` (0.5 when the model has none); None with more classes.
    """
    from skbreast.model_selection._cv_run import fitted_threshold

    if len(estimator.classes_) != 2:
        return None
    return fitted_threshold(estimator)


def run(args, argv):
    """Run the ``predict`` command; return the exit status."""
    if args.image_cache is None:
        return _run(args, argv)
    from skbreast.datasets import image_cache

    # For this command only: the setting is an environment variable, which an
    # in-process caller would otherwise keep.
    with image_cache(plain_path(args.image_cache)):
        return _run(args, argv)


def _run(args, argv):
    from skbreast.cli.data import collect_image_files
    from skbreast.cli.estimators import load_model_file

    start = time.perf_counter()
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}.")
    out = None if args.out is None else check_output(args.out, args.force, "--out")
    overlay_dir = None
    if args.gradcam is not None:
        overlay_dir = check_output_folder(args.gradcam, args.force, "--gradcam folder")
    estimator = load_model_file(args.model)
    files = collect_image_files(args.paths)
    if args.tta:
        estimator.set_params(tta=True)
    height, width, channels = (int(d) for d in estimator.image_shape_)
    threshold = binary_threshold(estimator)
    log(
        f"Predicting {len(files)} images with {plain_path(args.model)} "
        f"({type(estimator).__name__}); images are resized to {height}x{width}, "
        "the model's input size"
        + (
            ""
            if threshold is None
            else f"; label {estimator.classes_[1]} where proba_"
            f"{estimator.classes_[1]} > {threshold:.6g} (the model's threshold_)"
        )
    )
    header = ["path", "label"] + [f"proba_{c}" for c in estimator.classes_]
    header.append("error")
    overlay_names = None if overlay_dir is None else gradcam_names(files, overlay_dir)
    rows = _predict_rows(estimator, files, args, overlay_names)
    counts, n_errors = {}, 0

    def write(f):
        nonlocal n_errors
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            if row[-1]:
                n_errors += 1
            else:
                counts[row[1]] = counts.get(row[1], 0) + 1

    if out is None:
        write(sys.stdout)
        sys.stdout.flush()
    else:
        with atomic_output(out, "w", newline="", encoding="utf-8") as f:
            write(f)
    summary = ", ".join(f"{label}: {n}" for label, n in sorted(counts.items()))
    log(
        f"Predicted {len(files) - n_errors} of {len(files)} images ({summary})"
        + (f" -> {out}" if out else "")
        + f" in {time.perf_counter() - start:.1f} s"
    )
    if overlay_dir is not None:
        log(f"Grad-CAM overlays: {overlay_dir}")
    if n_errors:
        warn(f"{n_errors} file(s) could not be read; see the error column.")
    return 0
