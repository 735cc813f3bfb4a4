"""Peak memory of fitting on file paths vs in-memory arrays, as the data grows.

Usage: python benchmarks/bench_path_memory.py [--root path/to/pcam_subset/train]
       [--sizes 1000 4000] [--image-size 50] [--epochs 1] [--out results.json]

``CNNClassifier`` accepts a 1-D array of image file paths and decodes it batch by
batch, so the memory a fit needs should not depend on how many images there are.
This fits the same small CNN on N and 4N PCam training patches, in two modes:

* ``path``: X is the array of file names from
  ``load_image_folder(root, return_paths=True)``;
* ``array``: the same files decoded up front into a uint8 array, for contrast: its
  memory grows by ``N * height * width * 3`` bytes.

Every (mode, N) runs in a fresh subprocess, so allocator and TensorFlow state of
one run do not carry into the next. In each, after imports, a warm-up fit of the
same estimator on 64 images (which starts TensorFlow's thread pools and kernels)
and a garbage collection, the *baseline* resident memory (RSS) is read. Then the
measured section runs (array mode: decode the N images, then fit; path mode: fit)
while a background thread samples RSS every 5 ms; the *peak* is the larger of the
sampled maximum and the kernel's high-water mark (VmHWM, reset at the baseline via
``/proc/self/clear_refs`` where allowed). *Increase* = peak - baseline; *time* is
the measured section's wall time.

Pass criterion (exit status 1 when it fails): the path-mode increase at the largest
N is at most 1.15 times the increase at the smallest N plus 8 MB. At the defaults
(50x50 px, N = 1,000 and 4,000) the uint8 array alone grows by 21.5 MB (3,000 more
images of 7,500 bytes; MB here is 2**20 bytes), so a fit that held the decoded
images fails it; the array runs are checked against the same criterion to show
that it does.
"""

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _memory import PeakSampler, reset_high_water_mark, rss_reader, status_bytes

DEFAULT_ROOT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "pcam_subset" / "train"
)
MB = 1024 * 1024
RELATIVE_ALLOWANCE = 0.15
ABSOLUTE_ALLOWANCE_MB = 8.0
WARMUP_IMAGES = 64


# ---------------------------------------------------------------- one run
def _subset(root, n, seed):
    """``n`` file names and labels drawn from ``root``, half of each class."""
    from skbreast.datasets import load_image_folder

    data = load_image_folder(root, return_paths=True)
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(data.target):
        members = np.flatnonzero(data.target == label)
        share = n // 2 if label == 0 else n - n // 2
        if share > len(members):
            raise SystemExit(f"{root} has only {len(members)} images of class {label}")
        picked.append(rng.choice(members, size=share, replace=False))
    picked = np.sort(np.concatenate(picked))
    return data.filenames[picked], data.target[picked]


def _estimator(args):
    from skbreast import CNNClassifier

    return CNNClassifier(
        input_shape=(args.image_size, args.image_size, 3),
        filters=(8, 16),
        dense_units=(32,),
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=False,
        random_state=0,
    )


def worker(args):
    from skbreast.datasets import read_images

    rss_source, read_rss = rss_reader()
    size = (args.image_size, args.image_size)
    paths, y = _subset(args.root, args.n, seed=0)

    # Warm-up: the same estimator, in the same mode, on a few images.
    warm = slice(0, WARMUP_IMAGES) if args.n > WARMUP_IMAGES else slice(None)
    order = np.random.default_rng(1).permutation(len(paths))[warm]
    warm_X = paths[order] if args.mode == "path" else read_images(paths[order], size)
    _estimator(args).set_params(epochs=1).fit(warm_X, y[order])
    del warm_X
    gc.collect()

    baseline = read_rss()
    hwm_reset = reset_high_water_mark()
    start = time.perf_counter()
    with PeakSampler(read_rss) as sampler:
        X = paths if args.mode == "path" else read_images(paths, size)
        clf = _estimator(args).fit(X, y)
    elapsed = time.perf_counter() - start
    hwm = status_bytes("VmHWM") if hwm_reset else None
    peak = max(sampler.peak, hwm or 0)
    return {
        "mode": args.mode,
        "n_images": int(args.n),
        "baseline_mb": baseline / MB,
        "peak_mb": peak / MB,
        "increase_mb": (peak - baseline) / MB,
        "sampled_peak_mb": sampler.peak / MB,
        "vmhwm_mb": None if hwm is None else hwm / MB,
        "x_nbytes_mb": (X.nbytes if args.mode == "array" else 0) / MB,
        "fit_seconds": elapsed,
        "epochs_run": int(clf.n_iter_),
        "rss_samples": sampler.samples,
        "rss_source": rss_source,
        # As TensorFlow saw it (after importing skbreast); unset means oneDNN is on.
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }


# ---------------------------------------------------------------- driver
def increase(results, mode, n):
    return next(
        r["increase_mb"] for r in results if r["mode"] == mode and r["n_images"] == n
    )


def check(results, mode, sizes):
    """The pass criterion, applied to the runs of ``mode``."""
    small, large = increase(results, mode, sizes[0]), increase(results, mode, sizes[-1])
    limit = (1 + RELATIVE_ALLOWANCE) * small + ABSOLUTE_ALLOWANCE_MB
    return {
        "criterion": (
            f"increase at N={sizes[-1]} <= {1 + RELATIVE_ALLOWANCE:.2f} x increase "
            f"at N={sizes[0]} + {ABSOLUTE_ALLOWANCE_MB:.0f} MB"
        ),
        "limit_mb": limit,
        "measured_mb": large,
        "passed": bool(large <= limit),
    }


def run_one(args, mode, n):
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--mode",
        mode,
        "--n",
        str(n),
        "--root",
        str(args.root),
        "--image-size",
        str(args.image_size),
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"worker {mode} N={n} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine():
    """Where the numbers come from: CPUs, platform, library versions, oneDNN."""
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--modes", nargs="+", default=["path", "array"])
    parser.add_argument("--image-size", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if not args.root.is_dir():
        raise SystemExit(f"PCam training folder not found at {args.root}")

    sizes = sorted(args.sizes)
    print(
        f"CPUs: {os.cpu_count()}, image size {args.image_size}px, "
        f"{args.epochs} epoch(s), batch {args.batch_size}; one subprocess per run"
    )
    results = []
    header = (
        f"{'mode':>6} {'N':>6} {'baseline MB':>12} {'peak MB':>9} "
        f"{'increase MB':>12} {'X MB':>7} {'time s':>7}"
    )
    print(header)
    for mode in args.modes:
        for n in sizes:
            r = run_one(args, mode, n)
            results.append(r)
            print(
                f"{mode:>6} {n:>6} {r['baseline_mb']:12.1f} {r['peak_mb']:9.1f} "
                f"{r['increase_mb']:12.1f} {r['x_nbytes_mb']:7.1f} "
                f"{r['fit_seconds']:7.1f}",
                flush=True,
            )

    verdict = None
    if "path" in args.modes and len(sizes) > 1:
        verdict = check(results, "path", sizes)
        print(
            f"\npass criterion: {verdict['criterion']}\n"
            f"  path:  {verdict['measured_mb']:.1f} MB <= {verdict['limit_mb']:.1f} MB"
            f" -> {'PASS' if verdict['passed'] else 'FAIL'}"
        )
        if "array" in args.modes:
            contrast = check(results, "array", sizes)
            verdict["array_mode_would_pass"] = contrast["passed"]
            print(
                f"  array: {contrast['measured_mb']:.1f} MB <= "
                f"{contrast['limit_mb']:.1f} MB -> "
                f"{'pass' if contrast['passed'] else 'fail'} (contrast only)"
            )
        growth = {
            mode: increase(results, mode, sizes[-1]) - increase(results, mode, sizes[0])
            for mode in args.modes
        }
        print(
            f"growth of the increase from N={sizes[0]} to N={sizes[-1]}: "
            + ", ".join(f"{m} {g:+.1f} MB" for m, g in growth.items())
        )
        verdict["growth_mb"] = growth

    if args.out:
        report = {
            "benchmark": "bench_path_memory",
            "machine": machine(),
            "settings": {
                "root": str(args.root),
                "image_size": args.image_size,
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "estimator": "CNNClassifier(filters=(8, 16), dense_units=(32,))",
            },
            "results": results,
            "verdict": verdict,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0 if verdict is None or verdict["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
