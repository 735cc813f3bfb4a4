"""``skbreast predict-slide``: tile whole slides, predict them, map and score them.

For every slide, three files in the output folder, each written under a
temporary name and renamed when complete: ``<name>.tiles.csv`` (one row per
tissue tile: level-0 position, size, probabilities), ``<name>.heatmap.png``
(the tile scores over the slide's thumbnail) and ``<name>.json`` (the slide
scores and the settings that made them).
"""

import json
import os
import time

from skbreast.cli.common import (
    CLIError,
    HelpFormatter,
    add_verbosity_flags,
    atomic_output,
    check_output_folder,
    log,
    plain_path,
    progress,
)

# Longest side of the heatmap figure's thumbnail, in pixels.
_THUMBNAIL_SIDE = 2048


def add_parser(sub):
    """Add the ``predict-slide`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "predict-slide",
        help="predict the tissue tiles of whole slides: tiles CSV, heatmap, scores",
        description="Find the tissue of each slide (SVS, pyramidal TIFF, OME-TIFF), "
        "cut it into tiles of the model's input size, predict every tile and write "
        "<name>.tiles.csv, <name>.heatmap.png and <name>.json (mean, max, top-k "
        "mean and share of positive tiles) into the --out folder. Tiles are taken "
        "at level 0 unless --mpp, --magnification or --level says otherwise: use "
        "the resolution the model was trained at.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("slides", nargs="+", metavar="SLIDE", help="slide files")
    parser.add_argument(
        "--model", required=True, metavar="MODEL", help="model file (.skb)"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the output files"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--mpp", type=float, help="tile resolution, microns per pixel")
    where.add_argument(
        "--magnification", type=float, help="tile resolution, objective power"
    )
    where.add_argument("--level", type=int, help="tile resolution, a slide level")
    parser.add_argument(
        "--tile-size",
        type=int,
        default=None,
        help="tile side in pixels (default: the model's input size)",
    )
    parser.add_argument(
        "--overlap", type=int, default=0, help="pixels shared by neighbouring tiles"
    )
    parser.add_argument(
        "--min-tissue",
        type=float,
        default=0.5,
        help="least share of tissue in a predicted tile",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="tiles scoring at least this count as positive in the summary",
    )
    parser.add_argument(
        "--top-k", type=int, default=10, help="tiles averaged for the top-k mean"
    )
    parser.add_argument(
        "--pos-label",
        metavar="CLASS",
        default=None,
        help="the class whose probability is mapped and scored (default: the "
        "model's last class, e.g. 'malignant' of benign/malignant or 1 of 0/1)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="tiles decoded and predicted at once (default: about 16 MB of "
        "tiles, a multiple of 128)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="tile-decoding threads (default: 4)"
    )
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty --out folder"
    )
    add_verbosity_flags(parser)


def _check_args(args):
    if args.batch_size is not None and args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}.")
    if args.tile_size is not None and args.tile_size < 1:
        raise CLIError(f"--tile-size must be at least 1, got {args.tile_size}.")
    if args.top_k < 1:
        raise CLIError(f"--top-k must be at least 1, got {args.top_k}.")
    if not 0 <= args.min_tissue <= 1:
        raise CLIError(f"--min-tissue must be in [0, 1], got {args.min_tissue}.")
    names = [os.path.splitext(os.path.basename(plain_path(p)))[0] for p in args.slides]
    if len(set(names)) != len(names):
        raise CLIError("two slides have the same file name; their outputs would clash.")
    return names


def _pos_label(estimator, name):
    """Return the model's class written ``name`` on the command line, or None."""
    if name is None:
        return None
    classes = list(getattr(estimator, "classes_", []))
    # Classes may be ints or strings; the command line gives text.
    matches = [c for c in classes if str(c) == name]
    if not matches:
        shown = ", ".join(str(c) for c in classes)
        raise CLIError(f"--pos-label {name!r} is not a class of the model ({shown}).")
    return matches[0]


def _open_all(paths):
    """Open every slide first, so a bad file stops the run before any work."""
    from skbreast.slide import SlideReadError, open_slide

    slides = []
    try:
        for path in paths:
            try:
                slides.append(open_slide(plain_path(path)))
            except FileNotFoundError:
                raise CLIError(f"No such slide file: {plain_path(path)!r}.") from None
            except (SlideReadError, IsADirectoryError) as exc:
                raise CLIError(str(exc).splitlines()[0]) from None
    except BaseException:
        for slide in slides:
            slide.close()
        raise
    return slides


def _write_outputs(prediction, slide, base, summary):
    import matplotlib.pyplot as plt

    from skbreast.plotting import plot_slide_heatmap

    with atomic_output(f"{base}.tiles.csv", "w", newline="", encoding="utf-8") as f:
        prediction.write_csv(f)
    thumbnail, downsample = slide.read_thumbnail(_THUMBNAIL_SIDE)
    heatmap = prediction.heatmap(downsample=downsample)
    ax = plot_slide_heatmap(
        heatmap,
        thumbnail,
        label=f"P({summary['pos_label']})",
        title=os.path.basename(slide.path),
    )
    try:
        with atomic_output(f"{base}.heatmap.png", "wb") as f:
            ax.figure.savefig(f, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(ax.figure)
    with atomic_output(f"{base}.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, allow_nan=True)
        f.write("\n")


def run(args, argv):
    """Run the ``predict-slide`` command; return the exit status."""
    from skbreast.cli.estimators import load_model_file
    from skbreast.slide import SlideReadError, predict_slide

    start = time.perf_counter()
    names = _check_args(args)
    out = check_output_folder(args.out, args.force, "--out folder")
    estimator = load_model_file(args.model)
    pos_label = _pos_label(estimator, args.pos_label)
    slides = _open_all(args.slides)
    try:
        for slide, name in zip(slides, names):
            log(f"{slide.path}: {slide.dimensions[0]}x{slide.dimensions[1]} px")
            slide_start = time.perf_counter()
            with progress(None, f"Tiles of {name}") as bar:

                def advance(done, total, bar=bar):
                    # The tile count is known once the tissue is found.
                    if getattr(bar, "total", total) != total:
                        bar.total = total
                    bar.update(done - getattr(bar, "n", 0))

                try:
                    prediction = predict_slide(
                        estimator,
                        slide,
                        tile_size=args.tile_size,
                        mpp=args.mpp,
                        magnification=args.magnification,
                        level=args.level,
                        overlap=args.overlap,
                        min_tissue=args.min_tissue,
                        batch_size=args.batch_size or "auto",
                        n_jobs=args.jobs,
                        pos_label=pos_label,
                        callback=advance,
                    )
                except SlideReadError as exc:
                    raise CLIError(str(exc).splitlines()[0]) from None
                except ValueError as exc:  # a resolution the slide cannot give
                    raise CLIError(f"{slide.path!r}: {exc}") from None
            summary = prediction.summary(threshold=args.threshold, top_k=args.top_k)
            summary.update(
                model=plain_path(args.model),
                dimensions=list(slide.dimensions),
                mpp=slide.mpp,
                magnification=slide.magnification,
                tile_extent=list(prediction.extent),
                tile_settings={
                    "tile_size": args.tile_size,
                    "mpp": args.mpp,
                    "magnification": args.magnification,
                    "level": args.level,
                    "overlap": args.overlap,
                    "min_tissue": args.min_tissue,
                },
                seconds=round(time.perf_counter() - slide_start, 3),
            )
            _write_outputs(prediction, slide, os.path.join(out, name), summary)
            log(
                f"  {summary['n_tiles']} tissue tiles; mean {summary['mean']:.3f}, "
                f"max {summary['max']:.3f}, top-{args.top_k} mean "
                f"{summary['top_k_mean']:.3f} -> {os.path.join(out, name)}.*"
            )
    finally:
        for slide in slides:
            slide.close()
    log(f"{len(slides)} slide(s) in {time.perf_counter() - start:.1f} s -> {out}")
    return 0
