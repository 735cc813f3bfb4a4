"""IDC, the reference benchmark: the estimators' defaults vs the plain-Keras CNN.

The data: ``../shared/data/idc_subset`` (10,231 patches of 50x50 px from 195
patients, 28% IDC-positive). Every seed draws its own patient-disjoint partition,
``StratifiedGroupKFold(5, shuffle=True, random_state=seed)`` (no patient on both
sides, asserted), and seeds the models with the same seed. Every fold fits:

- ``cnn``: ``CNNClassifier(random_state=seed)``, its defaults, with the training
  patients passed to ``fit`` (early stopping validates on held-out *training*
  patients);
- ``keras``: the classic plain-Keras 50x50 CNN (conv 32/64/128 + ReLU + max-pool +
  dropout 0.25, dense 128/64, sigmoid, Adam, batch 32, pixels / 255), trained for
  the number of epochs ``cnn`` ran on that fold (``n_iter_``), so both get the same
  epochs; CPU time is given beside each score;
- ``resnet`` (optional, ``--models``): ``ResNetClassifier(random_state=seed)``.

Each skbreast model is scored on the fold's test patients at 0.5 and at the
threshold ``threshold="balanced_accuracy"`` chose: the one that maximises balanced
accuracy on its own early-stopping validation patients (the model is fitted once
with it; the threshold changes no weight, so the 0.5 scores are the default's).
The test patients never reach the threshold. The same fit is also scored with
test-time augmentation (``tta=True``, read at predict time: the eight flips and
rotations averaged; rows ``tta_*``) and at the training share of positives
(``at_prior``, the balanced-accuracy cut-off of a calibrated model, a function of
the training labels only); the records keep every test probability. Scores: ROC
AUC, balanced accuracy, F1, precision and recall of the IDC class, accuracy,
mean ± sd over folds x seeds and the sd of the per-seed means. Fit times are wall
and CPU seconds of this process (``time.process_time``); name the CPU beside them
(``lscpu``). ``idc_paired.py`` gives the paired per-fold differences of two rows.

Published patient-disjoint results on the full set (162 slides): F1 0.718,
balanced accuracy 0.842 (Cruz-Roa et al. 2014); F1 0.765, 0.847 (Janowczyk &
Madabhushi 2016).

``--data breakhis`` (the 17 shared patients at 50 px, the same patient folds) and
``--data pcam`` (``--n-train`` training patches, scored on the deduplicated valid
split; no patients) run the same models: the checks that a default changed for
IDC does not hurt elsewhere.

Run from the repository root::

    python benchmarks/bench_idc.py --seeds 0 1 2 --out results/idc_defaults.json
    python benchmarks/bench_idc.py --data pcam --seeds 0 1 2 --models cnn

``--params '{"name": value}'`` gives the skbreast models a candidate default (kept
in every record); screen candidates on seeds other than the reported 0, 1 and 2,
so that no reported fold chose them. ``--train-fraction 0.25`` trains on a
quarter of each fold's training patients (``--subsample patients``) or of every
training patient's patches (``--subsample patches``), the test patients
unchanged: the learning curve that says whether more data would move the scores.
Results are written after every fold, so a run that is stopped keeps what it did.
"""

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets import load_breakhis, load_idc, load_image_folder

# The threshold changes no weight: one fit gives the scores at 0.5 (``predict_proba
# > 0.5``, the default) and at the tuned ``threshold_``.
TUNED = {"threshold": "balanced_accuracy"}
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def scores(y, proba, threshold):
    """Every reported metric of IDC-positive predictions ``proba > threshold``."""
    pred = (proba > threshold).astype(int)
    return {
        "roc_auc": roc_auc_score(y, proba),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "f1": f1_score(y, pred, zero_division=0),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred, zero_division=0),
        "accuracy": accuracy_score(y, pred),
        "threshold": threshold,
    }


def plain_keras_cnn(seed):
    """The classic 50x50 patch CNN, written in plain Keras."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((50, 50, 3)), layers.Rescaling(1 / 255)])
    for filters in (32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D())
        model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_skbreast(est, X, y, groups, train, test):
    """Fit with the training patients; score at 0.5 and at the validation threshold."""
    fit_groups = None if groups is None else groups[train]
    _, wall, cpu = timed(lambda: est.fit(X[train], y[train], groups=fit_groups))
    if groups is not None:
        # The threshold was chosen on the early-stopping validation patients,
        # which are training patients: never a test patient.
        assert not np.isin(groups[test], est.validation_groups_).any()
    threshold = float(est.threshold_)
    # The training share of positives: the Bayes cut-off for balanced accuracy of
    # a calibrated model, a function of the training labels only.
    prior = float(np.mean(y[train] == est.classes_[1]))
    probas, walls = {}, {}
    for tta in (False, True):
        est.set_params(tta=tta)  # read at predict time: no refit
        proba, walls[tta], _ = timed(lambda: est.predict_proba(X[test])[:, 1])
        probas[tta] = proba
    record = {
        "fit_wall_s": wall,
        "fit_cpu_s": cpu,
        "predict_wall_s": walls[False],
        "predict_tta_wall_s": walls[True],
        "n_iter": int(est.n_iter_),
        "best_epoch": None if est.best_epoch_ is None else int(est.best_epoch_),
        "prior": prior,
        "proba": probas[False].round(5).tolist(),
        "proba_tta": probas[True].round(5).tolist(),
        "test": test.tolist(),
    }
    for prefix, proba in (("", probas[False]), ("tta_", probas[True])):
        record[f"{prefix}at_0.5"] = scores(y[test], proba, 0.5)
        record[f"{prefix}at_validation_threshold"] = scores(y[test], proba, threshold)
        record[f"{prefix}at_prior"] = scores(y[test], proba, prior)
    return record


def run_keras(seed, epochs, X, y, train, test):
    model = plain_keras_cnn(seed)
    _, wall, cpu = timed(
        lambda: model.fit(
            X[train], y[train], batch_size=32, epochs=epochs, shuffle=True, verbose=0
        )
    )
    proba = model.predict(X[test], batch_size=256, verbose=0)[:, 0].astype(float)
    return {
        "fit_wall_s": wall,
        "fit_cpu_s": cpu,
        "n_iter": epochs,
        "at_0.5": scores(y[test], proba, 0.5),
    }


def variants(record):
    """The scored variants of a record: the entries that hold a dict of scores."""
    return [k for k, v in record.items() if isinstance(v, dict) and "roc_auc" in v]


def summary(records):
    """Mean ± sd over every fold of every seed, and the sd of the seed means."""
    rows = {}
    keys = sorted({(r["model"], v) for r in records for v in variants(r)})
    for model, variant in keys:
        mine = [r for r in records if r["model"] == model and variant in r]
        row = {"n_folds": len(mine)}
        for metric in ("roc_auc", "balanced_accuracy", "f1", "precision", "recall"):
            values = np.array([r[variant][metric] for r in mine])
            seeds = sorted({r["seed"] for r in mine})
            means = [
                np.mean([r[variant][metric] for r in mine if r["seed"] == s])
                for s in seeds
            ]
            row[metric] = (values.mean(), values.std(ddof=1) if len(values) > 1 else 0)
            row[metric + "_seed_sd"] = np.std(means, ddof=1) if len(means) > 1 else 0
        row["fit_cpu_s"] = float(np.mean([r["fit_cpu_s"] for r in mine]))
        row["fit_wall_s"] = float(np.mean([r["fit_wall_s"] for r in mine]))
        row["epochs"] = float(np.mean([r["n_iter"] for r in mine]))
        rows[f"{model} {variant}"] = row
    return rows


def print_table(rows):
    print(
        "| model | folds | epochs | fit s wall / CPU | ROC AUC | bal. acc. | F1 "
        "| precision | recall |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        cells = [
            f"{r[m][0]:.3f} ± {r[m][1]:.3f}"
            for m in ("roc_auc", "balanced_accuracy", "f1", "precision", "recall")
        ]
        print(
            f"| {name} | {r['n_folds']} | {r['epochs']:.1f} | "
            f"{r['fit_wall_s']:.0f} / {r['fit_cpu_s']:.0f} | "
            + " | ".join(cells)
            + " |"
        )


def load(args):
    """Return ``(X, y, groups, splits)``; ``splits(seed)`` yields (train, test)."""
    if args.data == "pcam":
        # No patients: the valid split is the test set, the training patches a
        # stratified subsample, each seed a new subsample and a new model seed.
        root = DATA / "pcam_subset"
        train = load_image_folder(root / "train", image_size=(50, 50), deduplicate=True)
        valid = load_image_folder(root / "valid", image_size=(50, 50), deduplicate=True)
        # Valid patches identical to a training patch are dropped.
        seen = {hashlib.sha1(im.tobytes()).digest() for im in train.images}
        keep = [hashlib.sha1(im.tobytes()).digest() not in seen for im in valid.images]
        X = np.concatenate([train.images, valid.images[keep]])
        y = np.concatenate([train.target, valid.target[keep]])
        n = len(train.target)

        def splits(seed):
            idx, _ = train_test_split(
                np.arange(n),
                train_size=args.n_train,
                stratify=train.target,
                random_state=seed,
            )
            yield idx, np.arange(n, len(y))

        return X, y, None, splits
    if args.data == "breakhis":
        data = load_breakhis(DATA / "breakhis_100x_half", image_size=(50, 50))
    else:
        data = load_idc(DATA / "idc_subset")
    X, y, groups = data.images, data.target, data.groups
    if args.max_patients:
        keep = np.isin(groups, np.unique(groups)[: args.max_patients])
        X, y, groups = X[keep], y[keep], groups[keep]

    def splits(seed):
        cv = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
        return cv.split(X, y, groups)

    return X, y, groups, splits


def fewer_patients(train, groups, fraction, seed, fold):
    """A random ``fraction`` of the training patients (whole patients, seeded)."""
    patients = np.unique(groups[train])
    rng = np.random.RandomState(1000 * seed + fold)
    keep = rng.choice(patients, max(2, round(fraction * len(patients))), replace=False)
    return train[np.isin(groups[train], keep)]


def fewer_patches(train, groups, fraction, seed, fold):
    """A random ``fraction`` of every training patient's patches (seeded)."""
    rng = np.random.RandomState(1000 * seed + fold)
    keep = [
        rng.choice(mine, max(1, round(fraction * len(mine))), replace=False)
        for mine in (train[groups[train] == p] for p in np.unique(groups[train]))
    ]
    return np.sort(np.concatenate(keep))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--folds",
        type=int,
        nargs="+",
        default=None,
        help="only these fold numbers (0-4) of each seed",
    )
    parser.add_argument("--models", default="cnn,keras")
    parser.add_argument(
        "--data",
        choices=("idc", "breakhis", "pcam"),
        default="idc",
        help="idc: the reference; breakhis and pcam: the checks that a default "
        "changed for IDC does not hurt elsewhere",
    )
    parser.add_argument("--max-patients", type=int, default=None)
    parser.add_argument(
        "--n-train", type=int, default=8000, help="PCam training patches (--data pcam)"
    )
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help="JSON of constructor parameters given to the skbreast models on top "
        "of their defaults (a candidate default; kept in every record), e.g. "
        "'{\"validation_fraction\": 0.2}'",
    )
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=1.0,
        help="train on this share of each fold's training patients (drawn per "
        "seed and fold; the test patients unchanged): a learning curve",
    )
    parser.add_argument(
        "--subsample",
        choices=("patients", "patches"),
        default="patients",
        help="what --train-fraction draws: whole patients, or that share of "
        "every training patient's patches (all patients kept)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    models = args.models.split(",")
    if not isinstance(args.params, dict):
        parser.error("--params must be a JSON object of parameter names to values")
    if not 0 < args.train_fraction <= 1:
        parser.error("--train-fraction must be in (0, 1]")
    if args.train_fraction < 1 and args.data == "pcam":
        parser.error("--train-fraction draws patients: PCam has none")

    X, y, groups, splits = load(args)
    print(
        f"{args.data}: {len(y)} images, "
        f"{'no' if groups is None else len(np.unique(groups))} patients, "
        f"{y.mean():.1%} positive; CPUs: {os.cpu_count()}"
    )
    records = []
    for seed in args.seeds:
        for fold, (train, test) in enumerate(splits(seed)):
            if args.folds is not None and fold not in args.folds:
                continue
            if groups is not None:
                assert not set(groups[train]) & set(groups[test])
            if args.train_fraction < 1:
                draw = fewer_patients if args.subsample == "patients" else fewer_patches
                train = draw(train, groups, args.train_fraction, seed, fold)
            epochs = None
            for name in models:
                if name == "cnn":
                    est = CNNClassifier(**TUNED, **args.params, random_state=seed)
                    rec = run_skbreast(est, X, y, groups, train, test)
                    rec["params"] = args.params
                    epochs = rec["n_iter"]
                elif name == "resnet":
                    est = ResNetClassifier(**TUNED, **args.params, random_state=seed)
                    rec = run_skbreast(est, X, y, groups, train, test)
                    rec["params"] = args.params
                else:
                    rec = run_keras(seed, epochs or 10, X, y, train, test)
                rec.update(model=name, seed=seed, fold=fold)
                if args.train_fraction < 1:
                    rec["train_fraction"] = args.train_fraction
                    rec["subsample"] = args.subsample
                    rec["n_train"] = len(train)
                    rec["n_train_patients"] = len(np.unique(groups[train]))
                records.append(rec)
                print(
                    f"seed {seed} fold {fold} {name}: {rec['n_iter']} epochs, "
                    f"{rec['fit_wall_s']:.0f} s wall / {rec['fit_cpu_s']:.0f} s CPU, "
                    + ", ".join(
                        f"{v}: AUC {rec[v]['roc_auc']:.3f} "
                        f"bal {rec[v]['balanced_accuracy']:.3f} F1 {rec[v]['f1']:.3f}"
                        for v in variants(rec)
                    ),
                    flush=True,
                )
                if args.out:
                    tmp = args.out + ".tmp"
                    with open(tmp, "w") as f:
                        json.dump({"records": records}, f, indent=1)
                    os.replace(tmp, args.out)
    rows = summary(records)
    print_table(rows)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            json.dump({"records": records, "summary": rows}, f, indent=1, default=float)
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
