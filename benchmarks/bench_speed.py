"""Speed, precision and memory of CNNClassifier against plain Keras on PCam patches.

Usage: python benchmarks/bench_speed.py [path/to/pcam_subset] [--n-train 4000]
       [--epochs 10] [--repeats 3] [--resnet 2000] [--out results.json]
       [--skip-memory]

1. Overhead: CNNClassifier (precision="float32") against the same architecture
   written as a plain ``keras.Sequential``, trained on the same 4,000 PCam training
   patches at 50x50 for the same epochs at batch size 32, without validation or
   early stopping on either side, model building counted on both sides. skbreast
   gets the uint8 images; plain Keras gets ``X.astype("float32") / 255`` prepared
   once before timing (the way a Keras user feeds images), so its timings do not
   include that conversion. skbreast's augmentation and learning-rate schedule are
   switched off so both sides do the same work. Predict: ``predict_proba`` against
   ``model.predict`` (Keras' default batch size of 32, and 128) on the deduplicated
   PCam validation set, the best of ``--predict-runs`` (3) predictions per round.
2. Precision: plain Keras in float32 (its default) against skbreast with
   ``precision="mixed_bfloat16"`` and ``"auto"``: fit and predict speed-ups, and the
   ROC AUC of each on the deduplicated validation set after the same training.
   ``--keras-bfloat16`` adds plain Keras under the mixed_bfloat16 policy.
3. Memory: peak resident memory during ``fit`` on the 20,000 training patches held
   as uint8, in fresh processes, sampled by a thread every 5 ms, against a small fit
   (500 patches) that measures the fixed overhead (TensorFlow runtime, graphs,
   model).
4. With ``--resnet N``: the compact ResNetClassifier in float32 against
   mixed_bfloat16 on N patches (speed-ups and ROC AUC), for the "auto" decision.

Configurations run interleaved (A, B, C, A, B, C, ...) and every figure is a
median over the repeats, because timings on a shared machine drift.
"""

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# oneDNN on (TensorFlow's default on x86 Linux): bfloat16 needs it.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pcam_subset"
IMAGE_SIZE = (50, 50)
BATCH_SIZE = 32


def load_split(root, split):
    from skbreast.datasets import load_image_folder

    data = load_image_folder(root / split, image_size=IMAGE_SIZE, deduplicate=True)
    return data.images, np.asarray(data.target)


def stratified_subset(y, n, seed=0):
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        share = int(round(n * len(members) / len(y)))
        picked.append(rng.choice(members, size=share, replace=False))
    return np.sort(np.concatenate(picked))[:n]


@contextlib.contextmanager
def dtype_policy(policy):
    """Build Keras layers under ``policy`` inside the block, then restore the old one.

    Keras' public global dtype policy (``keras.config.set_dtype_policy``): layers
    built inside the block take ``policy`` unless given their own ``dtype``.
    """
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def plain_keras_cnn(precision="float32"):
    """The CNNClassifier default architecture, as a Keras user would write it.

    ``precision`` is the global dtype policy a Keras user would set for mixed
    precision (``keras.mixed_precision.set_global_policy``); the output layer stays
    float32, as Keras' mixed-precision guide advises.
    """
    import keras
    from keras import layers

    # The policy applies to the layers built inside the block, as a global
    # policy would, and is restored afterwards.
    with dtype_policy(precision):
        model = keras.Sequential(
            [
                keras.Input((*IMAGE_SIZE, 3)),
                layers.Conv2D(32, 3, padding="same", activation="relu"),
                layers.Dropout(0.25),
                layers.MaxPooling2D(2, padding="same"),
                layers.Conv2D(64, 3, padding="same", activation="relu"),
                layers.Dropout(0.25),
                layers.MaxPooling2D(2, padding="same"),
                layers.Conv2D(128, 3, padding="same", activation="relu"),
                layers.Dropout(0.25),
                layers.MaxPooling2D(2, padding="same"),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(64, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(1, activation="sigmoid", dtype="float32"),
            ]
        )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def skbreast_estimator(cls, precision, epochs, seed):
    """``cls`` doing the same work as the plain Keras side.

    No augmentation, no learning-rate schedule callback, no validation split.
    """
    return cls(
        flip=False,
        rotate90=False,
        stain_jitter=0.0,
        zoom=0.0,
        lr_schedule=None,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        early_stopping=False,
        precision=precision,
        random_state=seed,
    )


def cpu_has_bfloat16():
    """Whether the CPU has bfloat16 instructions (Linux ``/proc/cpuinfo`` flags).

    Elsewhere (or if the file cannot be read) the answer is False.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        pass
    return False


def auto_precision():
    """What ``precision="auto"`` resolves to here: ``precision_`` after a tiny fit."""
    from skbreast import CNNClassifier

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (8, *IMAGE_SIZE, 3), dtype=np.uint8)
    y = np.arange(8) % 2
    clf = skbreast_estimator(CNNClassifier, "auto", 1, 0).fit(X, y)
    return clf.precision_


def epoch_timer():
    """A Keras callback recording each epoch's wall time in ``.times``.

    The estimators deep-copy their callbacks; this one copies to itself so that
    the times stay readable after ``fit``.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def __deepcopy__(self, memo):
            return self

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimer()


def steady_fit_time(total, epochs):
    """``total`` with every epoch after the first replaced by their median.

    On this shared 2-core machine single epochs sometimes take twice as long as
    the others (another tenant takes the cores); the median epoch removes those
    bursts while the first epoch, model building and tracing stay counted.
    """
    later = np.asarray(epochs[1:])
    if len(later) == 0:
        return total
    return total - later.sum() + len(later) * float(np.median(later))


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def best_of(fn, n):
    """The fastest of ``n`` runs: other jobs on a shared CPU only ever add time."""
    runs = [timed(fn) for _ in range(n)]
    return min(runs, key=lambda run: run[0])


def run_resnet_precision(X, y, Xv, yv, epochs, repeats, log):
    """Compact ResNetClassifier in float32 against mixed_bfloat16, interleaved."""
    import keras
    from sklearn.metrics import roc_auc_score

    from skbreast import ResNetClassifier

    configs = ["float32", "mixed_bfloat16"]
    rows = {c: {"fit_s": [], "predict_s": [], "auc": []} for c in configs}
    for r in range(repeats):
        for precision in configs if r % 2 == 0 else configs[::-1]:
            keras.utils.clear_session()
            gc.collect()
            clf = skbreast_estimator(ResNetClassifier, precision, epochs, r)
            fit_s, _ = timed(lambda clf=clf: clf.fit(X, y))
            clf.predict_proba(Xv[:256])
            predict_s, proba = best_of(lambda clf=clf: clf.predict_proba(Xv), 3)
            auc = roc_auc_score(yv, proba[:, 1])
            for key, value in zip(rows[precision], (fit_s, predict_s, auc)):
                rows[precision][key].append(value)
            log(
                f"  round {r + 1}/{repeats} resnet {precision:>15}: fit {fit_s:7.1f} "
                f"s, predict {predict_s:6.2f} s, ROC AUC {auc:.4f}"
            )
    return rows


def run_speed(X, y, Xv, yv, epochs, repeats, log, options):
    import keras
    from sklearn.metrics import roc_auc_score

    from skbreast import CNNClassifier

    # Plain Keras receives float32 in [0, 1], prepared once outside the timings.
    Xf = X.astype("float32") / 255.0
    Xvf = Xv.astype("float32") / 255.0
    yf = y.astype("float32")
    configs = ["keras_float32", "skbreast_float32", "skbreast_mixed_bfloat16"]
    if options.keras_bfloat16:
        configs.insert(1, "keras_mixed_bfloat16")
    if options.only:
        # The plain-Keras float32 reference stays: every ratio is against it.
        configs = [c for c in configs if c == "keras_float32" or c in options.only]
    predict_runs = options.predict_runs
    rows = {
        c: {"fit_s": [], "steady_fit_s": [], "predict_s": [], "auc": []}
        for c in configs
    }
    for config in configs:
        if config.startswith("keras_"):
            rows[config]["predict128_s"] = []
    for r in range(options.first_seed, options.first_seed + repeats):
        # Rotate the order every round so that no configuration always runs first.
        shift = r % len(configs)
        for config in configs[shift:] + configs[:shift]:
            keras.utils.clear_session()
            gc.collect()
            precision = config.split("_", 1)[1]
            timer = epoch_timer()
            if config.startswith("keras_"):
                keras.utils.set_random_seed(r)

                def fit(precision=precision, timer=timer):
                    model = plain_keras_cnn(precision)
                    model.fit(
                        Xf,
                        yf,
                        batch_size=BATCH_SIZE,
                        epochs=epochs,
                        verbose=0,
                        callbacks=[timer],
                    )
                    return model

                fit_s, model = timed(fit)
                model.predict(Xvf[:256], verbose=0)  # the predict function's trace
                predict_s, proba = best_of(
                    lambda m=model: m.predict(Xvf, verbose=0), predict_runs
                )
                predict128_s, _ = best_of(
                    lambda m=model: m.predict(Xvf, batch_size=128, verbose=0),
                    predict_runs,
                )
                rows[config]["predict128_s"].append(predict128_s)
                score = proba[:, 0]
            else:
                clf = skbreast_estimator(CNNClassifier, precision, epochs, r)
                clf.set_params(callbacks=[timer])
                fit_s, _ = timed(lambda clf=clf: clf.fit(X, y))
                clf.predict_proba(Xv[:256])
                predict_s, proba = best_of(
                    lambda clf=clf: clf.predict_proba(Xv), predict_runs
                )
                score = proba[:, 1]
            auc = roc_auc_score(yv, score)
            rows[config]["fit_s"].append(fit_s)
            rows[config]["steady_fit_s"].append(steady_fit_time(fit_s, timer.times))
            rows[config]["predict_s"].append(predict_s)
            rows[config]["auc"].append(auc)
            log(
                f"  seed {r} {config:>24}: fit {fit_s:7.1f} s (steady "
                f"{rows[config]['steady_fit_s'][-1]:5.1f} s), "
                f"predict {predict_s:6.2f} s, ROC AUC {auc:.4f}"
            )
    return rows


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_child(cache, n):
    """Fit on the first ``n`` cached patches; print baseline and peak RSS as JSON."""
    from skbreast import CNNClassifier

    with np.load(cache) as data:
        X, y = data["X"][:n].copy(), data["y"][:n].copy()
    gc.collect()
    baseline = _rss_mb()
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    CNNClassifier(epochs=1, random_state=0).fit(X, y)
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _rss_mb())
    print(
        json.dumps(
            {
                "n": int(n),
                "data_mb": X.nbytes / 2**20,
                "baseline_mb": baseline,
                "peak_mb": peak[0],
                "increase_mb": peak[0] - baseline,
            }
        )
    )


def run_memory(X, y, repeats, small_n, log):
    # Shuffled so that the first small_n patches hold both classes.
    order = np.random.default_rng(0).permutation(len(y))
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "pcam_train_50.npz")
        np.savez(cache, X=X[order], y=y[order])
        results = {small_n: [], len(y): []}
        for _ in range(repeats):
            for n in (small_n, len(y)):
                out = subprocess.run(
                    [sys.executable, __file__, "--memory-child", str(n), cache],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                results[n].append(result)
                log(
                    f"  n={n:>6}: data {result['data_mb']:6.1f} MB, baseline "
                    f"{result['baseline_mb']:7.1f} MB, peak {result['peak_mb']:7.1f} "
                    f"MB, increase {result['increase_mb']:6.1f} MB"
                )
    return results


def median(values):
    return float(np.median(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=os.environ.get("PCAM", DEFAULT))
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--predict-runs",
        type=int,
        default=3,
        help="predictions per round and configuration; the fastest counts",
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seed of the first round; round i uses first_seed + i",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="CONFIG",
        help="run these configurations only (plain Keras float32 always runs)",
    )
    parser.add_argument(
        "--keras-bfloat16",
        action="store_true",
        help="also time plain Keras under the mixed_bfloat16 policy",
    )
    parser.add_argument("--memory-repeats", type=int, default=2)
    parser.add_argument("--memory-small-n", type=int, default=500)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--resnet",
        type=int,
        default=0,
        metavar="N",
        help="also compare float32 and mixed_bfloat16 on the compact ResNet "
        "trained on N patches (0: skip)",
    )
    parser.add_argument("--resnet-epochs", type=int, default=5)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--out", default=None, help="write the results as JSON")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        n, cache = args.memory_child
        memory_child(cache, int(n))
        return

    import keras
    import tensorflow as tf

    def log(line):
        print(line, flush=True)

    root = Path(args.root)
    if not root.is_dir():
        sys.exit(f"PCam subset not found at {root}")
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    auto = auto_precision()
    log(
        f"CPUs: {os.cpu_count()} (shared with other jobs: timings are noisy), "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"TF_ENABLE_ONEDNN_OPTS={onednn}, CPU bfloat16: {cpu_has_bfloat16()}, "
        f'precision="auto" -> {auto}'
    )
    X_all, y_all = load_split(root, "train")
    Xv, yv = load_split(root, "valid")
    log(f"PCam at 50x50, deduplicated: train {len(y_all)}, valid {len(yv)}")
    results = {
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": onednn,
        "auto_precision": auto,
        "n_valid": int(len(yv)),
    }

    if not args.skip_speed:
        idx = stratified_subset(y_all, args.n_train)
        X, y = X_all[idx], y_all[idx]
        log(
            f"\nSpeed: {len(y)} training patches, {args.epochs} epochs, batch size "
            f"{BATCH_SIZE}, {args.repeats} interleaved rounds"
        )
        rows = run_speed(X, y, Xv, yv, args.epochs, args.repeats, log, args)
        keras_fit = np.array(rows["keras_float32"]["fit_s"])
        keras_steady = np.array(rows["keras_float32"]["steady_fit_s"])
        keras_pred = np.array(rows["keras_float32"]["predict_s"])
        keras_pred128 = np.array(rows["keras_float32"]["predict128_s"])
        summary = {}
        log(
            f"\n{'configuration':>24} | {'fit s':>7} | {'fit img/s':>9} | "
            f"{'pred s':>6} | {'pred img/s':>10} | {'fit ratio':>9} | "
            f"{'steady fit ratio':>16} | {'pred ratio':>10} | {'ROC AUC':>7}"
        )
        for config, row in rows.items():
            fit_s, pred_s = np.array(row["fit_s"]), np.array(row["predict_s"])
            # Per round: plain Keras time / this time (> 1: faster than Keras).
            fit_ratio = median(keras_fit / fit_s)
            steady_ratio = median(keras_steady / np.array(row["steady_fit_s"]))
            pred_ratio = median(keras_pred / pred_s)
            # Each round's seed moves both sides' ROC AUC by a few points: the mean
            # of the per-round differences and its standard error say more than
            # one round.
            diffs = np.array(row["auc"]) - np.array(rows["keras_float32"]["auc"])
            sem = (
                float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else 0
            )
            summary[config] = {
                "fit_s": median(fit_s),
                "fit_images_per_s": len(y) * args.epochs / median(fit_s),
                "predict_s": median(pred_s),
                "predict_images_per_s": len(yv) / median(pred_s),
                "fit_throughput_ratio_vs_keras": fit_ratio,
                "steady_fit_throughput_ratio_vs_keras": steady_ratio,
                "predict_throughput_ratio_vs_keras": pred_ratio,
                "predict_throughput_ratio_vs_keras_batch128": median(
                    keras_pred128 / pred_s
                ),
                "roc_auc": median(row["auc"]),
                "auc_minus_keras": median(diffs),
                "auc_minus_keras_mean": float(diffs.mean()),
                "auc_minus_keras_sem": sem,
                "raw": row,
            }
            log(
                f"{config:>24} | {median(fit_s):7.1f} | "
                f"{summary[config]['fit_images_per_s']:9.0f} | {median(pred_s):6.2f} | "
                f"{summary[config]['predict_images_per_s']:10.0f} | {fit_ratio:9.3f} | "
                f"{steady_ratio:16.3f} | {pred_ratio:10.3f} | {median(row['auc']):7.4f}"
            )
        log(
            "plain Keras float32 predict at batch_size=128: "
            f"{median(keras_pred128):.2f} s"
        )
        for config, row in summary.items():
            if config == "keras_float32":
                continue
            log(
                f"{config:>24}: ROC AUC - plain Keras float32, mean over rounds "
                f"{row['auc_minus_keras_mean']:+.4f} (standard error "
                f"{row['auc_minus_keras_sem']:.4f}, median "
                f"{row['auc_minus_keras']:+.4f}); predict ratio against Keras at "
                "batch_size=128: "
                f"{row['predict_throughput_ratio_vs_keras_batch128']:.3f}"
            )
        auto_config = f"skbreast_{auto}"
        if auto_config in summary:
            log(f'precision="auto" resolves to {auto}: its row is {auto_config}.')
        results.update(
            n_train=int(len(y)), epochs=args.epochs, repeats=args.repeats, speed=summary
        )

    if args.resnet:
        idx = stratified_subset(y_all, args.resnet, seed=1)
        log(
            f"\nPrecision on the compact ResNet: {len(idx)} patches, "
            f"{args.resnet_epochs} epochs, {args.repeats} interleaved rounds"
        )
        rows = run_resnet_precision(
            X_all[idx], y_all[idx], Xv, yv, args.resnet_epochs, args.repeats, log
        )
        f32, bf16 = rows["float32"], rows["mixed_bfloat16"]
        resnet = {
            "n_train": int(len(idx)),
            "epochs": args.resnet_epochs,
            "fit_speedup": median(np.array(f32["fit_s"]) / np.array(bf16["fit_s"])),
            "predict_speedup": median(
                np.array(f32["predict_s"]) / np.array(bf16["predict_s"])
            ),
            "auc_float32": median(f32["auc"]),
            "auc_mixed_bfloat16": median(bf16["auc"]),
            "raw": rows,
        }
        log(
            f"compact ResNet, mixed_bfloat16 over float32: fit x"
            f"{resnet['fit_speedup']:.2f}, predict x{resnet['predict_speedup']:.2f}; "
            f"ROC AUC {resnet['auc_float32']:.4f} (float32) vs "
            f"{resnet['auc_mixed_bfloat16']:.4f} (mixed_bfloat16)"
        )
        results["resnet_precision"] = resnet

    if not args.skip_memory:
        log(
            f"\nMemory: fit (1 epoch, default CNNClassifier) on {len(y_all)} uint8 "
            f"patches vs {args.memory_small_n}, fresh processes, "
            f"{args.memory_repeats} rounds"
        )
        mem = run_memory(X_all, y_all, args.memory_repeats, args.memory_small_n, log)
        small = median([m["increase_mb"] for m in mem[args.memory_small_n]])
        big = median([m["increase_mb"] for m in mem[len(y_all)]])
        data_mb = mem[len(y_all)][0]["data_mb"]
        budget = small + data_mb / 2
        log(
            f"increase during fit: {big:.1f} MB with {len(y_all)} patches "
            f"({data_mb:.1f} MB of uint8), {small:.1f} MB with "
            f"{args.memory_small_n}; goal: below {budget:.1f} MB "
            f"(small-fit overhead + half the data) -> "
            f"{'met' if big < budget else 'NOT met'}"
        )
        results["memory"] = {
            "data_mb": data_mb,
            "increase_mb_full": big,
            "increase_mb_small": small,
            "budget_mb": budget,
            "raw": {str(k): v for k, v in mem.items()},
        }

    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2, default=float)
        log(f"\nResults written to {args.out}")


if __name__ == "__main__":
    main()
