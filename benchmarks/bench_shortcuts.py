"""Shortcut checks on the shared data: baselines, colour sensitivity, their cost.

Usage:
    python benchmarks/bench_shortcuts.py baselines-breakhis [--data DIR]
    python benchmarks/bench_shortcuts.py baselines-pcam [--data DIR] [--max-images N]
    python benchmarks/bench_shortcuts.py benchmark [--data DIR] [--out DIR]
        [-- extra skbreast benchmark options]

``baselines-breakhis``: the two trivial baselines of
:mod:`skbreast.model_selection` (a logistic regression on colour histograms, one
on 21x32 thumbnails, C tuned inside each training fold) cross-validated with
``compare_models`` on the BreakHis 100X subset (319 images of 17 patients, read
from the files at full resolution), by patient: ``StratifiedGroupKFold(5,
shuffle=True, random_state=0)``.

``baselines-pcam``: the same on PCam valid (3,000 patches, 2,907 after
deduplication by file bytes; ``--max-images N`` takes a stratified, seeded
subsample). PCam has no patient ids, so the folds are by image
(``StratifiedKFold(5, shuffle=True, random_state=0)``): patches of one slide can
fall on both sides, so these scores are optimistic.

``benchmark``: the default ``skbreast benchmark`` on BreakHis (cnn and resnet,
3 patient folds, 10 epochs, 50x50 images; baselines and colour check on, their
defaults), then reads the report's colour-sensitivity table and the share of the
run the colour check took (timed inside the same run, so the ratio holds on a
shared CPU).

Every mode appends one JSON line to ``benchmarks/results/shortcuts.jsonl``.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "shortcuts.jsonl"


def _conditions():
    import sklearn

    import skbreast

    return {
        "skbreast": skbreast.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "2-core machine shared with other jobs: compare times within a run",
    }


def _save(record):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(record, default=str) + "\n")
    print(json.dumps(record, indent=2, default=str))


def _baseline_rows(result):
    table = result.summary()
    rows = {}
    for i, (model, metric) in enumerate(zip(table["model"], table["metric"])):
        if metric in ("roc_auc", "balanced_accuracy", "patient_roc_auc"):
            rows.setdefault(model, {})[metric] = {
                "mean": table["mean"][i],
                "sd": table["sd"][i],
                "folds": result.fold_scores[model][metric].round(4).tolist(),
                "pooled": table["estimate"][i],
                "ci": [table["ci_low"][i], table["ci_high"][i]],
                "ci_unit": table["unit"][i],
            }
    for model in rows:
        rows[model]["fit_time_mean_s"] = float(result.fit_time[model].mean())
    return rows


def _run_baselines(X, y, groups, what, n_jobs=None):
    from skbreast.model_selection import (
        colour_histogram_baseline,
        compare_models,
        thumbnail_baseline,
    )

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compare_models(
            {
                "colour-histogram": colour_histogram_baseline(),
                "thumbnail": thumbnail_baseline(),
            },
            X,
            y,
            groups=groups,
            cv=5,
            random_state=0,
            n_jobs=n_jobs,
            scoring=["roc_auc", "balanced_accuracy"]
            + (["patient_roc_auc"] if groups is not None else []),
        )
    _save(
        {
            "mode": what,
            "cv": result.cv_description,
            "n_images": len(y),
            "n_patients": None if groups is None else int(len(np.unique(groups))),
            "baselines": _baseline_rows(result),
            "warnings": [str(w.message)[:300] for w in caught],
            "wall_s": time.perf_counter() - start,
            "n_jobs": n_jobs,
            "conditions": _conditions(),
        }
    )


def baselines_breakhis(args):
    from skbreast.datasets import load_breakhis

    data = load_breakhis(args.data or SHARED / "breakhis_100x_half", return_paths=True)
    labels = np.asarray(data.target_names)[data.target]
    _run_baselines(
        data.filenames, labels, data.groups, "baselines-breakhis", args.n_jobs
    )


def baselines_pcam(args):
    from skbreast.datasets import load_image_folder

    root = Path(args.data or SHARED / "pcam_subset") / "valid"
    data = load_image_folder(root, return_paths=True, deduplicate=True)
    print(f"PCam valid: {len(data.target)} patches after deduplication", flush=True)
    paths, y = data.filenames, data.target
    if args.max_images is not None and args.max_images < len(y):
        # The thumbnail baseline's tuned logistic regression on 2,016 pixels
        # took over 45 minutes for 5 folds of all 2,907 patches on the shared
        # 2-core machine: a stratified, seeded subsample keeps it bounded.
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(
            np.arange(len(y)), train_size=args.max_images, stratify=y, random_state=0
        )
        keep = np.sort(keep)
        paths, y = paths[keep], y[keep]
    _run_baselines(paths, y, None, f"baselines-pcam (n={len(y)})", args.n_jobs)


def benchmark(args, extra):
    from skbreast.cli import main

    out = Path(args.out)
    argv = [
        "benchmark",
        "--data",
        str(args.data or SHARED / "breakhis_100x_half"),
        "--out",
        str(out),
        *extra,
    ]
    start = time.perf_counter()
    code = main(argv)
    wall = time.perf_counter() - start
    payload = json.loads((out / "metrics.json").read_text())
    timing = payload["timing"]
    total = sum(timing.values())
    _save(
        {
            "mode": "benchmark",
            "argv": argv,
            "exit": code,
            "settings": payload["settings"],
            "timing_s": timing,
            "colour_check_share": timing.get("colour_check", 0.0) / total,
            "wall_s": wall,
            "colour_check": payload.get("colour_check", {}).get("table"),
            "colour_notes": payload.get("colour_check", {}).get("notes"),
            "shortcut_check": payload.get("shortcut_check"),
            "shortcut_warning": payload.get("shortcut_warning"),
            "models_roc_auc": {
                n: {
                    k: m["metrics"]["roc_auc"][k]
                    for k in ("mean", "std", "estimate", "ci_low", "ci_high")
                }
                for n, m in {**payload["models"], **payload["baselines"]}.items()
            },
            "conditions": _conditions(),
        }
    )
    return code


def main_(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", choices=["baselines-breakhis", "baselines-pcam", "benchmark"]
    )
    parser.add_argument("--data", default=None)
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="folds fitted in parallel"
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        help="PCam: a stratified random subsample of this many patches",
    )
    parser.add_argument("--out", default="/tmp/skbreast_shortcuts_report")
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    if args.mode == "baselines-breakhis":
        baselines_breakhis(args)
    elif args.mode == "baselines-pcam":
        baselines_pcam(args)
    else:
        return benchmark(args, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main_())
