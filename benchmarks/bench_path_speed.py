"""Fit and predict speed on image file paths, cached or not, against arrays.

Usage: python benchmarks/bench_path_speed.py [--root path/to/breakhis_100x_half]
       [--epochs 3] [--rounds 2] [--input-shape 64 96] [--out results.json]

``CNNClassifier(input_shape=(64, 96, 3))`` (its default architecture, early
stopping off, ``random_state=0``) is fitted and asked for ``predict_proba`` on
the same images given three ways, alternately in one process, round after round:

* ``array``: decoded up front with ``read_images`` (that decoding is timed and
  reported apart, not counted in the fit);
* ``path``: the 1-D array of file names, no cache (every epoch decodes);
* ``path+cache``: the file names, with ``skbreast.datasets.image_cache`` set to a
  fresh, empty folder for every fit, so epoch 1 decodes and fills the cache and
  later epochs (and the predictions after the fit) read it.

Two image sets: the shared BreakHis 100X PNGs (350x230, 319 images, see
``../shared/data/README.md``) and a temporary folder of 2x-upscaled copies
(700x460, bilinear), standing in for BreakHis at full resolution.

Every epoch is timed with a Keras callback (``on_epoch_begin`` to
``on_epoch_end``); epoch 1 includes tracing the train step in every mode.
*Speed* of a path mode is array time / path time (1.0: as fast as arrays).
Predict time is the best of ``--predict-runs`` (5) calls on all images, the
three modes' calls interleaved (array, path, path+cache, array, ...) after the
three fits; the path+cache predictions read the cache its fit filled.

Pass criterion (exit status 1 when it fails), for both image sets, on the
median over rounds: ``path+cache`` fit speed over epochs 2..E >= 0.9 and predict
speed >= 0.8. Epoch 1 speeds are reported, not judged.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DEFAULT_ROOT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "breakhis_100x_half"
)
FIT_GOAL, PREDICT_GOAL = 0.9, 0.8
MODES = ("array", "path", "path+cache")


def upscaled_copies(paths, folder):
    """Write a 2x bilinear upscale of every image to ``folder``; return the paths."""
    from PIL import Image

    out = []
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            big = im.convert("RGB").resize(
                (im.width * 2, im.height * 2), Image.Resampling.BILINEAR
            )
        target = Path(folder) / f"{i:04d}.png"
        big.save(target)
        out.append(str(target))
    return np.array(out, dtype=object)


def make_estimator(args, callback):
    import keras

    from skbreast import CNNClassifier

    keras.utils.set_random_seed(0)
    return CNNClassifier(
        input_shape=(*args.input_shape, 3),
        epochs=args.epochs,
        early_stopping=False,
        random_state=0,
        verbose=0,
        callbacks=[callback],
    )


# Filled by EpochTimer: the estimators deep-copy their callbacks for every fit,
# so the timings go to this module-level list, which a copy does not duplicate.
EPOCH_SECONDS = []


def epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            EPOCH_SECONDS.append(time.perf_counter() - self._start)

    EPOCH_SECONDS.clear()
    return EpochTimer()


def fit_mode(args, mode, paths, y, scratch):
    """Fit in one mode; return its timings, estimator, X and cache folder."""
    from skbreast.datasets import image_cache, read_images

    result = {"mode": mode, "folder": None}
    if mode == "array":
        start = time.perf_counter()
        result["X"] = read_images(paths, tuple(args.input_shape))
        result["decode_seconds"] = time.perf_counter() - start
    else:
        result["X"] = paths
        if mode == "path+cache":
            result["folder"] = Path(tempfile.mkdtemp(dir=scratch, prefix="cache-"))
    timer = epoch_timer()
    with image_cache(result["folder"]):
        result["clf"] = make_estimator(args, timer).fit(result["X"], y)
    result["epoch_seconds"] = list(EPOCH_SECONDS)
    return result


def predict_modes(args, results, order):
    """Time ``predict_proba`` of every mode, the modes interleaved run by run.

    Interleaving keeps a drift in the shared machine's load from favouring the
    mode measured first; each mode's time is its best run.
    """
    from skbreast.datasets import image_cache

    seconds = {mode: [] for mode in order}
    for _ in range(args.predict_runs):
        for mode in order:
            r = results[mode]
            with image_cache(r["folder"]):
                start = time.perf_counter()
                r["proba"] = r["clf"].predict_proba(r["X"])[:, 1]
                seconds[mode].append(time.perf_counter() - start)
    for mode in order:
        results[mode]["predict_seconds"] = min(seconds[mode])
        if results[mode]["folder"] is not None:
            shutil.rmtree(results[mode]["folder"])


def speeds(array, path):
    """Array time / path time for epoch 1, later epochs and predict."""
    a, p = array["epoch_seconds"], path["epoch_seconds"]
    return {
        "fit_epoch1": a[0] / p[0],
        "fit_later": float(np.mean(a[1:]) / np.mean(p[1:])),
        "predict": array["predict_seconds"] / path["predict_seconds"],
    }


def machine():
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
        "pillow": version("pillow"),
        "numpy": version("numpy"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--predict-runs", type=int, default=5)
    parser.add_argument("--input-shape", type=int, nargs=2, default=[64, 96])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if args.epochs < 2:
        raise SystemExit("--epochs must be at least 2 (epoch 1 is reported apart)")

    from skbreast.datasets import load_breakhis

    data = load_breakhis(args.root / "BreaKHis_v1", return_paths=True)
    paths, y = np.asarray(data.filenames, dtype=object), np.asarray(data.target)
    load_start = os.getloadavg()
    print(
        f"{len(paths)} images, input {tuple(args.input_shape)}, {args.epochs} "
        f"epochs, {args.rounds} rounds; CPUs {os.cpu_count()}, load average "
        f"{' '.join(f'{v:.2f}' for v in load_start)}",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench_path_speed-"))
    try:
        start = time.perf_counter()
        sets = {
            "350x230": paths,
            "700x460": upscaled_copies(paths, tempfile.mkdtemp(dir=scratch)),
        }
        print(f"wrote the 2x copies in {time.perf_counter() - start:.1f} s")
        runs = []
        for round_ in range(args.rounds):
            for name, files in sets.items():
                # Alternate the order of the modes from round to round, so that a
                # drift in the machine's load favours none of them.
                order = MODES if round_ % 2 == 0 else MODES[::-1]
                results = {m: fit_mode(args, m, files, y, scratch) for m in order}
                predict_modes(args, results, order)
                base = results["array"]
                for mode in order:
                    r = results[mode]
                    row = {
                        "round": round_,
                        "images": name,
                        "mode": mode,
                        "epoch_seconds": r["epoch_seconds"],
                        "predict_seconds": r["predict_seconds"],
                        "decode_seconds": r.get("decode_seconds"),
                        "max_proba_difference_to_array": float(
                            np.max(np.abs(r["proba"] - base["proba"]))
                        ),
                    }
                    if mode != "array":
                        row["speed"] = speeds(base, r)
                    runs.append(row)
                    epochs = " ".join(f"{s:5.2f}" for s in r["epoch_seconds"])
                    extra = (
                        f"decode up front {r['decode_seconds']:.2f} s"
                        if mode == "array"
                        else "speed fit e1 {fit_epoch1:.2f} later {fit_later:.2f}"
                        " predict {predict:.2f}".format(**row["speed"])
                    )
                    print(
                        f"round {round_} {name} {mode:>10}: epochs [{epochs}] s, "
                        f"predict {r['predict_seconds']:.2f} s; {extra}",
                        flush=True,
                    )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    summary, passed = {}, True
    for name in sets:
        for mode in MODES[1:]:
            rows = [r for r in runs if r["images"] == name and r["mode"] == mode]
            med = {
                k: float(np.median([r["speed"][k] for r in rows]))
                for k in ("fit_epoch1", "fit_later", "predict")
            }
            summary[f"{name} {mode}"] = med
            if mode == "path+cache":
                ok = med["fit_later"] >= FIT_GOAL and med["predict"] >= PREDICT_GOAL
                passed &= ok
            print(
                f"median speed vs array, {name} {mode:>10}: fit epoch 1 "
                f"{med['fit_epoch1']:.2f}, epochs 2+ {med['fit_later']:.2f}, "
                f"predict {med['predict']:.2f}"
                + (f" -> {'PASS' if ok else 'FAIL'}" if mode == "path+cache" else "")
            )
    load_end = os.getloadavg()
    print(
        f"goal: path+cache fit (epochs 2+) >= {FIT_GOAL}, predict >= {PREDICT_GOAL} "
        f"-> {'PASS' if passed else 'FAIL'}; load average at the end "
        f"{' '.join(f'{v:.2f}' for v in load_end)}"
    )
    if args.out:
        report = {
            "benchmark": "bench_path_speed",
            "machine": {**machine(), "load_average": [load_start, load_end]},
            "settings": {
                "root": str(args.root),
                "input_shape": args.input_shape,
                "epochs": args.epochs,
                "rounds": args.rounds,
            },
            "runs": runs,
            "summary": summary,
            "passed": passed,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
