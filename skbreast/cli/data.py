"""Reading the ``--data`` folder (or generating the sample) for the commands."""

import os
from pathlib import Path

from skbreast.cli.common import CLIError, log, plain_path, progress

# Images decoded between two updates of the progress bar.
_DECODE_CHUNK = 256

# The built-in sample: with the benchmark's defaults it must finish in well under
# five minutes on two CPU cores (1,000 50x50 patches, 3 folds, two models).
DEFAULT_N_SAMPLES = 1000
DEFAULT_N_PATIENTS = 20

NO_PATIENTS_WARNING = (
    "The data has no patient ids: folds are split by image (StratifiedKFold). "
    "Images of one patient or slide can fall on both sides of a split, which makes "
    "the scores optimistic. Use a layout with patients (BreakHis, IDC) for honest "
    "estimates."
)


def detect_layout(root):
    """Return "breakhis", "idc" or "folder" for the image folder ``root``.

    Raises
    ------
    CLIError
        If ``root`` is missing or matches no known layout.
    """
    from skbreast.datasets._base import is_image_file

    root = Path(root)
    if not root.is_dir():
        raise CLIError(f"--data {str(root)!r} is not a folder.")
    # BreakHis: a histology_slides or BreaKHis_v1 folder within a few levels.
    level = [root]
    for _ in range(4):
        nxt = []
        for folder in level:
            if folder.name in ("BreaKHis_v1", "histology_slides"):
                return "breakhis"
            try:
                nxt += [p for p in folder.iterdir() if p.is_dir()]
            except OSError:
                continue
        level = nxt
    if (root / "benign" / "SOB").is_dir() or (root / "malignant" / "SOB").is_dir():
        return "breakhis"
    # IDC: <patient>/<0|1>/<patient>_idx5_..._class<k>.png
    for base in (root, *[p for p in root.iterdir() if p.is_dir()]):
        for patient in sorted(p for p in base.iterdir() if p.is_dir())[:20]:
            for label in ("0", "1"):
                folder = patient / label
                if folder.is_dir() and any(
                    "_idx5_" in f.name and "_class" in f.name
                    for f in list(folder.iterdir())[:50]
                ):
                    return "idc"
    classes = [
        p
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and any(is_image_file(f) for f in p.iterdir())
    ]
    if len(classes) >= 2:
        return "folder"
    raise CLIError(
        f"No known image layout under {str(root)!r}: expected BreakHis "
        "(BreaKHis_v1/histology_slides/...), IDC (<patient>/<0|1>/*.png) or one "
        "sub-folder of images per class."
    )


def subsample(n, y, max_images, random_state):
    """Return the indices of a stratified random subsample of ``max_images``."""
    import numpy as np

    if max_images is None or max_images >= n:
        return np.arange(n)
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(
        np.arange(n), train_size=max_images, stratify=y, random_state=random_state
    )
    return np.sort(idx)


def _decode(paths, image_size, load_pixels):
    """Decode ``paths`` in chunks under a progress bar; return ``(X, kept)``."""
    import numpy as np

    n = len(paths)
    X = np.empty((n, *image_size, 3), dtype=np.uint8)
    kept = np.zeros(n, dtype=bool)
    filled = 0
    with progress(n, "Decoding") as bar:
        for start in range(0, n, _DECODE_CHUNK):
            chunk = [str(p) for p in paths[start : start + _DECODE_CHUNK]]
            images, ok = load_pixels(chunk, image_size, "skip", None)
            X[filled : filled + len(images)] = images
            kept[start : start + len(chunk)] = ok
            filled += len(images)
            bar.update(len(chunk))
    return X[:filled], kept


def load_data(args, image_size, binary=True, *, return_coords=False):
    """Return ``(X, y, groups, target_names, summary)`` for the parsed ``args``.

    ``binary=False`` accepts data with more than two classes. With
    ``return_coords=True`` a sixth item follows: the ``(x, y)`` slide position
    of every image, an int array of shape (n_images, 2), for the IDC layout
    (None for other layouts).
    """
    import numpy as np

    from skbreast import datasets
    from skbreast.datasets._base import load_pixels

    if args.data is None:
        data = datasets.make_patches(
            args.n_samples,
            image_size=image_size,
            n_patients=DEFAULT_N_PATIENTS,
            random_state=args.random_state,
        )
        layout = "generated sample (skbreast.datasets.make_patches, SYNTHETIC)"
        idx = subsample(
            len(data.target), data.target, args.max_images, args.random_state
        )
        X, y, groups = data.images[idx], data.target[idx], data.groups[idx]
        names = [str(t) for t in data.target_names]
        source = "built-in"
        coords = None
    else:
        kind = detect_layout(args.data)
        layout = {
            "breakhis": "BreakHis layout (BreaKHis_v1/histology_slides/...)",
            "idc": "IDC layout (<patient>/<0|1>/*.png)",
            "folder": "class-folder layout (<class>/<image>, no patients)",
        }[kind]
        log(f"Found {layout} in {args.data}")
        if kind == "breakhis":
            data = datasets.load_breakhis(args.data, return_paths=True)
        elif kind == "idc":
            data = datasets.load_idc(args.data, return_paths=True)
        else:
            data = datasets.load_image_folder(
                args.data, return_paths=True, deduplicate=True
            )
            if getattr(data, "n_duplicates", 0):
                log(f"Dropped {data.n_duplicates} byte-identical duplicate images")
        names = [str(t) for t in data.target_names]
        if binary and len(names) != 2:
            raise CLIError(
                f"The benchmark compares binary classifiers; {args.data} has "
                f"{len(names)} classes: {names}."
            )
        idx = subsample(
            len(data.target), data.target, args.max_images, args.random_state
        )
        paths = data.filenames[idx]
        log(f"Decoding {len(paths)} images at {image_size[0]}x{image_size[1]} ...")
        X, kept = _decode(paths, image_size, load_pixels)
        y = np.asarray(data.target)[idx][kept]
        groups = None if data.groups is None else np.asarray(data.groups)[idx][kept]
        coords = None
        if kind == "idc":
            coords = np.stack([data.x, data.y], axis=1)[idx][kept].astype(np.int64)
        source = str(Path(args.data).resolve())
    y = np.asarray(y).astype(int)
    if not len(y):
        raise CLIError(f"No readable image under {plain_path(args.data)!r}.")
    counts = np.bincount(y, minlength=len(names))
    summary = {
        "source": source,
        "layout": layout,
        "images": int(len(y)),
        "image_size": f"{X.shape[1]}x{X.shape[2]}x{X.shape[3]}",
        "patients": "unknown" if groups is None else int(len(np.unique(groups))),
        "class_balance": ", ".join(
            f"{names[c]}: {counts[c]} ({counts[c] / len(y):.1%})"
            for c in range(len(names))
        ),
    }
    if return_coords:
        return X, y, groups, names, summary, coords
    return X, y, groups, names, summary


def class_and_patient_counts(y, groups, names):
    """Return ``{"by_class": {...}, "by_patient": {...}}`` image counts.

    ``by_patient`` maps each patient to its counts by class (None without
    patients).
    """
    import numpy as np

    y = np.asarray(y)
    by_class = {names[c]: int(np.sum(y == c)) for c in range(len(names))}
    by_patient = None
    if groups is not None:
        groups = np.asarray(groups)
        by_patient = {}
        for patient in sorted(np.unique(groups).tolist(), key=str):
            mine = y[groups == patient]
            by_patient[str(patient)] = {
                names[c]: int(np.sum(mine == c))
                for c in range(len(names))
                if np.any(mine == c)
            }
    return {"by_class": by_class, "by_patient": by_patient}


def collect_image_files(paths):
    """Return ``[(file, root), ...]``: the image files named or under folders.

    Folders are searched recursively (hidden ones skipped) in sorted order; a file
    named explicitly is kept whatever its extension. ``root`` is the folder given
    (None for a file given), for naming outputs by relative path.
    """
    from skbreast.datasets._base import list_image_files

    found = []
    for given in paths:
        path = plain_path(given)
        if os.path.isdir(path):
            files = list_image_files(path)
            if not files:
                raise CLIError(f"No image files under {path!r}.")
            found += [(str(f), path) for f in files]
        elif os.path.exists(path):
            found.append((path, None))
        else:
            raise CLIError(f"No such file or folder: {path!r}.")
    if not found:
        raise CLIError("No image files given.")
    return found
