"""Screen: does a patient's other patches, by slide position, sharpen a patch's score?

IDC's labels mark coarse regions of the slide, so a patch's neighbours tend to share
its label. This screen blends each test patch's logit with the kernel-weighted mean
logit of the *same patient's other test patches* (Gaussian kernel of bandwidth
``h`` pixels on the ``x``/``y`` slide coordinates), with weight
``alpha * s / (s + 1)`` where ``s`` is the patch's total kernel weight, so a patch
without near neighbours keeps its own score. It uses no label and no other
patient: at deployment, every tile of a slide is at hand.

It reads the test probabilities that ``bench_idc.py`` keeps in its records (run
it with ``--out``) and prints, for every ``(h, alpha)`` of a fixed grid, the
paired per-fold change of ROC AUC, balanced accuracy and F1 at 0.5. The whole
grid is printed: choosing its best cell on the same folds would be tuning on
them. Run from the repository root::

    python benchmarks/bench_idc.py --seeds 10 --models cnn --out /tmp/seed10.json
    python benchmarks/screen_slide_context.py /tmp/seed10.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit, logit
from sklearn.metrics.pairwise import rbf_kernel

from skbreast.datasets import load_idc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_idc  # noqa: E402

# The table's own metric definitions, so the changes are of the same scores.
METRICS = ("roc_auc", "balanced_accuracy", "f1")
GRID = [(h, a) for h in (100, 200, 400, 800) for a in (0.5, 0.8, 1.0)]


def smooth(proba, coords, patients, h, alpha):
    """Blend each logit with the kernel-weighted logits of its patient's others."""
    z = logit(np.clip(proba, 1e-6, 1 - 1e-6))
    out = z.copy()
    for patient in np.unique(patients):
        mine = patients == patient
        w = rbf_kernel(coords[mine], gamma=1 / (2 * h * h))
        np.fill_diagonal(w, 0)
        s = w.sum(axis=1)
        near = np.divide(w @ z[mine], s, out=z[mine].copy(), where=s > 0)
        weight = alpha * s / (s + 1)
        out[mine] = (1 - weight) * z[mine] + weight * near
    return expit(out)


def scores(y, proba):
    """ROC AUC, and balanced accuracy and F1 at 0.5, as ``bench_idc.py`` scores them."""
    at_half = bench_idc.scores(y, proba, 0.5)
    return np.array([at_half[metric] for metric in METRICS])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a bench_idc.py --out file (IDC)")
    parser.add_argument("--model", default="cnn")
    args = parser.parse_args(argv)
    records = [
        r
        for r in json.loads(Path(args.results).read_text())["records"]
        if r["model"] == args.model and "proba" in r
    ]
    if not records:
        raise SystemExit(f"No {args.model!r} records with test probabilities.")
    data = load_idc(bench_idc.DATA / "idc_subset", return_paths=True)
    coords = np.c_[data.x, data.y].astype(float)
    print(f"{len(records)} folds; change of ROC AUC, balanced accuracy, F1 at 0.5")
    for h, alpha in GRID:
        diffs = []
        for r in records:
            test, proba = np.asarray(r["test"]), np.asarray(r["proba"])
            y = data.target[test]
            smoothed = smooth(proba, coords[test], data.groups[test], h, alpha)
            diffs.append(scores(y, smoothed) - scores(y, proba))
        diffs = np.array(diffs)
        cells = (
            f"{m:+.3f} ± {s:.3f} ({(d > 0).sum()} of {len(d)})"
            for m, s, d in zip(diffs.mean(0), diffs.std(0, ddof=1), diffs.T)
        )
        print(f"h={h:4d} alpha={alpha:.1f}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
