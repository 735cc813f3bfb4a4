"""Paired differences between two rows of ``bench_idc.py`` results, fold by fold.

Each side is ``FILE:MODEL:VARIANT`` (e.g. ``results/idc_defaults.json:keras:at_0.5``);
folds are matched by ``(seed, fold)``, which fixes the patient partition, so the
difference of two rows on a fold is the difference on the same test patients.
Prints, per metric, the mean ± sd of the per-fold differences (A - B), how many
folds A is higher in, and the ratio of their mean fit CPU seconds.

Run from the repository root::

    python benchmarks/idc_paired.py results/idc_variants.json:cnn:tta_at_0.5 \\
        results/idc_variants.json:cnn:at_0.5
"""

import argparse
import json

import numpy as np

METRICS = ("roc_auc", "balanced_accuracy", "f1", "precision", "recall")


def rows(spec):
    """``{(seed, fold): record}`` of one ``FILE:MODEL:VARIANT``, and the variant."""
    path, model, variant = spec.rsplit(":", 2)
    with open(path) as f:
        records = json.load(f)["records"]
    # Records of older runs may lack a variant (e.g. at_prior): they are skipped.
    mine = {
        (r["seed"], r["fold"]): r
        for r in records
        if r["model"] == model and variant in r
    }
    if not mine:
        raise SystemExit(f"No {model!r} records with {variant!r} in {path}.")
    return mine, variant


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="FILE:MODEL:VARIANT")
    parser.add_argument("b", help="FILE:MODEL:VARIANT")
    args = parser.parse_args(argv)
    a, va = rows(args.a)
    b, vb = rows(args.b)
    folds = sorted(set(a) & set(b))
    if not folds:
        raise SystemExit("The two rows share no (seed, fold).")
    print(f"{args.a} - {args.b}: {len(folds)} paired folds")
    for metric in METRICS:
        diff = np.array([a[k][va][metric] - b[k][vb][metric] for k in folds])
        sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
        print(
            f"  {metric}: {diff.mean():+.4f} ± {sd:.4f} "
            f"(A higher in {(diff > 0).sum()} of {len(diff)})"
        )
    cpu = [np.mean([side[k]["fit_cpu_s"] for k in folds]) for side in (a, b)]
    print(f"  fit CPU s per fold: {cpu[0]:.0f} / {cpu[1]:.0f} = {cpu[0] / cpu[1]:.2f}x")


if __name__ == "__main__":
    main()
