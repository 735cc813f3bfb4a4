"""Time loading the PCam subset with load_image_folder vs a serial PIL loop.

Usage: python benchmarks/bench_load_pcam.py [path/to/pcam_subset] [--n-jobs N]

Both loaders decode the same 23,000 JPEG files (train + valid) into uint8
arrays in the same run. Run it twice: the first run also measures a cold disk
cache, the second mostly decoding.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from skbreast.datasets import load_image_folder

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pcam_subset"


def serial_pil(root):
    """The loop users write by hand: one file at a time, then np.stack."""
    images, labels = [], []
    for label, cls in enumerate(sorted(p.name for p in root.iterdir() if p.is_dir())):
        for path in sorted((root / cls).glob("*.jpg")):
            with Image.open(path) as im:
                images.append(np.asarray(im.convert("RGB")))
            labels.append(label)
    return np.stack(images), np.array(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=os.environ.get("PCAM", DEFAULT))
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args()
    root = Path(args.root)
    if not root.is_dir():
        sys.exit(f"PCam subset not found at {root}")
    splits = [root / "train", root / "valid"]
    print(f"CPUs: {os.cpu_count()}, n_jobs: {args.n_jobs or 'default'}")

    results = {}
    for name, load in [
        ("load_image_folder", lambda d: load_image_folder(d, n_jobs=args.n_jobs)),
        ("serial PIL loop", serial_pil),
    ]:
        start = time.perf_counter()
        n = 0
        for split in splits:
            out = load(split)
            images = out.images if hasattr(out, "images") else out[0]
            n += len(images)
            del out, images
        results[name] = time.perf_counter() - start
        print(
            f"{name:>18}: {n} images in {results[name]:.2f} s "
            f"({n / results[name]:,.0f} images/s)"
        )
    ratio = results["serial PIL loop"] / results["load_image_folder"]
    print(f"speed-up of load_image_folder over the serial loop: {ratio:.2f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
