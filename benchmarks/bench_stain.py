"""Transform throughput of StainNormalizer on real PCam patches (96x96 RGB).

Usage: python benchmarks/bench_stain.py [path/to/pcam_subset] [--n 1000]
       [--torchstain-path DIR] [--out results.json]

Each method is fitted on 64 training patches and times ``transform`` on N
validation patches (best of --repeats runs, after a warm-up), on one thread
(``n_jobs=1``, the default) and on every core (``n_jobs=-1``). In the same run it
times two references on the same patches: the same normaliser called one image at
a time (what a per-image loop costs), torchstain 1.4.1's NumPy normalisers when
importable (pass the folder of ``pip install --no-deps --target DIR torchstain``:
its wheel also installs a top-level ``tests`` package, so keep it out of the
project's environment; its per-image LAPACK calls slow down with BLAS threads
on a busy machine, so also try OPENBLAS_NUM_THREADS=1), and scikit-learn's
``dict_learning`` per image for Vahadane. It also counts the patches each method
returned unchanged (fallbacks).

Exit status 1 when Macenko or Reinhard transform fewer than 500 images/s on all
cores (the speed goal: 500 images/s at 96x96 on 2 cores).
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from skbreast.preprocessing import StainNormalizer

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pcam_subset"
GOAL = 500.0
GATED = ("macenko", "reinhard")
METHODS = ("macenko", "reinhard", "vahadane")


def read_patches(folder, n):
    """N patches spread evenly over the sorted files of every class folder."""
    paths = sorted(folder.glob("*/*.jpg"))
    step = max(1, len(paths) // n)
    images = []
    for path in paths[::step][:n]:
        with Image.open(path) as im:
            images.append(np.asarray(im.convert("RGB")))
    return np.stack(images)


def best_rate(function, n_images, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return n_images / best


def time_torchstain(reference, images, path):
    """torchstain's NumPy normalisers, one image at a time (they take one)."""
    sys.path.insert(0, str(path))
    try:
        from torchstain.numpy.normalizers import (
            NumpyMacenkoNormalizer,
            NumpyReinhardNormalizer,
        )
    except ImportError as exc:
        print(f"torchstain not importable from {path}: {exc}")
        return {}
    results = {}
    for method, cls in (
        ("macenko", NumpyMacenkoNormalizer),
        ("reinhard", NumpyReinhardNormalizer),
    ):
        normalizer = cls()
        normalizer.fit(reference[0])
        failures = 0

        def run(normalizer=normalizer):
            nonlocal failures
            failures = 0
            for image in images:
                try:
                    normalizer.normalize(image)
                except Exception:  # noqa: BLE001 (count any failure of theirs)
                    failures += 1

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rate = best_rate(run, len(images), 1)
        results[method] = {"images_per_s": rate, "exceptions": failures}
    return results


def time_sklearn_vahadane(images, n_pixels=256, max_iter=10):
    """scikit-learn's dict_learning per image, on a 256-pixel tissue subsample."""
    from sklearn.decomposition import dict_learning

    table = np.log(255.0 / np.maximum(np.arange(256), 1))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for image in images:
            od = table[image.reshape(-1, 3)]
            od = od[np.linalg.norm(od, axis=1) >= 0.15][:: max(1, 9216 // n_pixels)]
            dict_learning(
                od,
                2,
                alpha=0.1,
                max_iter=max_iter,
                method="cd",
                positive_code=True,
                positive_dict=True,
                random_state=0,
            )
    return len(images) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=os.environ.get("PCAM", DEFAULT))
    parser.add_argument("--n", type=int, default=1000, help="validation patches")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torchstain-path", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = Path(args.root)
    if not (root / "valid").is_dir():
        sys.exit(f"PCam subset not found at {root}")

    reference = read_patches(root / "train", 64)
    images = read_patches(root / "valid", args.n)
    print(
        f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, "
        f"{len(images)} patches of {images.shape[1]}x{images.shape[2]}, "
        f"reference: {len(reference)} training patches"
    )

    results = {"n_images": len(images), "methods": {}}
    print(
        f"{'method':<10} {'n_jobs=1':>10} {'n_jobs=-1':>10} {'per image':>10} "
        f"{'unchanged':>10}  (images/s)"
    )
    for method in METHODS:
        row = {}
        for n_jobs in (1, -1):
            normalizer = StainNormalizer(method=method, n_jobs=n_jobs).fit(reference)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                normalizer.transform(images[:32])  # warm-up
                row[f"n_jobs={n_jobs}"] = best_rate(
                    lambda normalizer=normalizer: normalizer.transform(images),
                    len(images),
                    args.repeats,
                )
        messages = [str(w.message) for w in caught]
        single = StainNormalizer(method=method).fit(reference)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["per_image_loop"] = best_rate(
                lambda single=single: [
                    single.transform(image[None]) for image in images[:200]
                ],
                min(200, len(images)),
                1,
            )
        row["fallback_warning"] = messages[-1] if messages else None
        unchanged = 0
        if messages:
            text = messages[-1]
            if "returned " in text:
                unchanged = int(text.split("returned ")[1].split(" of ")[0])
        row["unchanged"] = unchanged
        results["methods"][method] = row
        print(
            f"{method:<10} {row['n_jobs=1']:>10.0f} {row['n_jobs=-1']:>10.0f} "
            f"{row['per_image_loop']:>10.0f} {unchanged:>10d}"
        )
        if messages:
            print(f"           last warning: {messages[-1]}")

    rate = time_sklearn_vahadane(images[:20])
    results["sklearn_dict_learning_per_image"] = rate
    print(f"reference: scikit-learn dict_learning per image (Vahadane): {rate:.1f}/s")
    if args.torchstain_path is not None:
        torchstain = time_torchstain(reference, images, args.torchstain_path)
        results["torchstain"] = torchstain
        for method, row in torchstain.items():
            print(
                f"reference: torchstain NumPy {method}, per image: "
                f"{row['images_per_s']:.0f}/s, {row['exceptions']} exceptions"
            )

    results["load_average_after"] = os.getloadavg()[0]
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    missed = [m for m in GATED if results["methods"][m]["n_jobs=-1"] < GOAL]
    if missed:
        print(f"FAIL: {', '.join(missed)} below {GOAL:.0f} images/s on all cores")
        return 1
    print(f"PASS: {', '.join(GATED)} at >= {GOAL:.0f} images/s on all cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
