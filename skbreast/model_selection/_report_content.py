"""The comparison report's content: a :class:`skbreast.report.Report`.

Sections in order: the table with intervals, the published protocol's numbers
when it was used, the shortcut and colour checks, external validation, the
paired comparisons, operating points, figures, the error analysis (patients
with their extent, worst images, slide maps), the classification reports (as
tables), the leakage check and the run.
"""

import numpy as np

from skbreast.model_selection._classification import report_table
from skbreast.model_selection._format import (
    MINUS,
    format_p,
    metric_label,
    metric_short_label,
    signed,
)
from skbreast.model_selection._report_checks import (
    colour_section,
    external_section,
    shortcut_section,
)
from skbreast.model_selection._report_data import _mean_sd
from skbreast.model_selection._report_format import (
    OPERATING_POINTS,
    _fmt_ci,
    _fmt_mean_sd,
)
from skbreast.model_selection._split import PatientShuffleSplit
from skbreast.report import (
    BulletList,
    Figure,
    Paragraph,
    Report,
    Section,
    Table,
)

N_PATIENT_ROWS = 10


def build_report(result, stats, payload, notes, figures):
    """Return the comparison report as a :class:`skbreast.report.Report`."""
    warnings = [payload["shortcut_warning"]] if payload.get("shortcut_warning") else []
    return Report(
        "skbreast benchmark report",
        warnings=warnings + list(payload["warnings"]),
        sections=_grouped(_blocks(result, stats, payload, notes, figures)),
    )


def _grouped(items):
    """Gather a flat list of sections and blocks into sections of blocks."""
    sections = [Section()]
    for item in items:
        if isinstance(item, Section):
            sections.append(item)
        else:
            sections[-1].blocks.append(item)
    return [s for s in sections if s.title or s.blocks]


def _blocks(result, stats, payload, notes, figures):
    """Return the report's body: a flat list of sections (headings) and blocks."""
    s = []
    rows = stats["rows"]
    pooled = result.pooled(result.names[0])
    n_units = (
        len(np.unique(pooled.groups))
        if pooled.groups is not None
        else len(pooled.index)
    )
    unit_text = (
        f"that resamples patients ({n_units} patients)"
        if result.unit == "patient"
        else f"that resamples images ({n_units} images): no patients were given, so "
        "the interval is by image and too narrow for images of shared patients"
    )
    s.append(
        Paragraph(
            f"Cross-validation: {result.cv_description}; {result.n_splits} splits. "
            "Each cell gives the mean ± standard deviation (ddof=1) over the folds "
            "where the metric is defined, then the metric on the pooled "
            "out-of-fold predictions with its 95% confidence interval: the "
            "percentile interval of 2,000 bootstrap resamples "
            f"{unit_text}. Pooled predictions: {result.pooling_description}.",
        )
    )
    header = ["Metric"]
    for n in result.names:
        header += [f"{n}: mean ± sd over folds", f"{n}: pooled [95% CI]"]
    body, footnotes = [], []
    for m in result.metrics:
        line = [metric_label(m)]
        for n in result.names:
            r = rows[(n, m)]
            line += [
                _fmt_mean_sd(r["mean"], r["sd"]),
                _fmt_ci(r["estimate"], r["ci_low"], r["ci_high"]),
            ]
            if r["note"]:
                footnotes.append(f"{n}, {metric_label(m)}: {r['note']}")
        body.append(line)
    for key, label in (
        ("fit_time", "Fit time (s)"),
        ("predict_time", "Predict time (s)"),
    ):
        line = [label]
        for n in result.names:
            mean, sd = _mean_sd(getattr(result, key)[n])
            line += [_fmt_mean_sd(mean, sd, 1), ""]
        body.append(line)
    s.append(Table(header, body))
    if footnotes:
        s.append(Paragraph("n/a and missing intervals:"))
        s.append(BulletList(footnotes))

    if isinstance(result.cv, PatientShuffleSplit):
        s.append(Section("Spanhol et al. (2016) protocol"))
        s.append(
            Paragraph(
                f"{result.cv.n_splits} random trials, each testing "
                f"{result.cv.test_size:.0%} of the patients of every class (no "
                "patient on both sides), reported as in the BreakHis paper: mean ± "
                "standard deviation over the trials of the image accuracy and of "
                "the patient recognition rate (the mean over patients of each "
                "patient's share of correctly classified images).",
            )
        )
        body = []
        for n in result.names:
            body.append(
                [n]
                + [
                    _fmt_mean_sd(rows[(n, m)]["mean"], rows[(n, m)]["sd"])
                    if (n, m) in rows
                    else "n/a"
                    for m in ("accuracy", "patient_accuracy")
                ]
            )
        s.append(
            Table(["Model", "Image accuracy", metric_label("patient_accuracy")], body)
        )

    if stats["shortcut"] is not None:
        s += shortcut_section(result, stats)
    if stats["colour"] is not None:
        s += colour_section(result, stats)
    if stats["external"] is not None:
        s += external_section(result, stats)

    s.append(Section("Paired comparisons"))
    if not stats["comparisons"]:
        s.append(Paragraph("One model only: nothing to compare."))
    else:
        s.append(
            Paragraph(
                "Each pair on the same folds. The mean difference over folds with "
                "the Nadeau–Bengio corrected resampled t-test (the folds share "
                "training data, so the plain t-test is too confident); the pooled "
                "difference with a paired bootstrap interval (both models on the "
                "same resampled patients); for ROC AUC also DeLong's test on the "
                "pooled scores. A large p-value is not evidence that the models "
                "are equal: the interval says how large a difference the data "
                "cannot exclude.",
            )
        )
        auc = [c for c in stats["comparisons"] if c.metric == "roc_auc"]
        for c in auc:
            s.append(BulletList([c.sentence, c.bootstrap_sentence, c.delong_sentence]))
        body = []
        for c in stats["comparisons"]:
            body.append(
                [
                    f"{c.a} {MINUS} {c.b}",
                    metric_short_label(c.metric, capitalize=True),
                    signed(c.mean_difference),
                    (
                        f"{signed(c.confidence_interval[0])} to "
                        f"{signed(c.confidence_interval[1])}"
                        if np.isfinite(c.confidence_interval[0])
                        else "n/a"
                    ),
                    format_p(c.p_value),
                    signed(c.bootstrap.estimate),
                    (
                        f"{signed(c.bootstrap.confidence_interval[0])} to "
                        f"{signed(c.bootstrap.confidence_interval[1])}"
                        if np.isfinite(c.bootstrap.confidence_interval[0])
                        else "n/a"
                    ),
                    "" if c.delong is None else format_p(c.delong.p_value),
                ]
            )
        s.append(
            Table(
                [
                    "Pair",
                    "Metric",
                    "Mean difference",
                    "95% CI (t)",
                    "p (t)",
                    "Pooled difference",
                    f"95% CI ({result.unit} bootstrap)",
                    "p (DeLong)",
                ],
                body,
            )
        )

    points = [m for m in OPERATING_POINTS if m in result.metrics]
    if points:
        s.append(Section("Operating points"))
        s.append(
            Paragraph(
                "On the pooled out-of-fold predictions: the best sensitivity among "
                "thresholds whose specificity reaches the target, and conversely; "
                "the threshold is the score above which an image is called "
                f"{result.pos_label}.",
            )
        )
        body = []
        for n in result.names:
            for m in points:
                r = rows[(n, m)]
                body.append(
                    [
                        n,
                        metric_label(m),
                        _fmt_ci(r["estimate"], r["ci_low"], r["ci_high"]),
                        _fmt_thr(stats["thresholds"][(n, m)]),
                    ]
                )
        s.append(
            Table(["Model", "Operating point", "Pooled [95% CI]", "Threshold"], body)
        )

    s.append(Section("ROC curves"))
    if "roc_curves.png" in figures:
        s.append(Figure("roc_curves.png", "ROC curves"))
    else:
        s.append(Paragraph(f"No ROC curve: {notes.get('roc', 'undefined')}"))
    s.append(Section("Calibration"))
    if "calibration.png" in figures:
        s.append(
            Paragraph(
                "Reliability diagram of the pooled out-of-fold probabilities: a "
                "calibrated model's points lie on the diagonal (of the images it "
                "calls 80% malignant, 80% are). Brier score: mean squared error of "
                "the probabilities; ECE: the images-weighted mean gap between "
                "predicted and observed share, over 10 equal-width bins.",
            )
        )
        s.append(Figure("calibration.png", "Reliability diagram"))
    else:
        s.append(Paragraph("No model has predict_proba: no reliability diagram."))
    s.append(Section("Confusion matrices (summed over folds)"))
    s.append(Figure("confusion_matrices.png", "Confusion matrices"))
    if "training_curves.png" in figures:
        s.append(Section("Training curves"))
        s.append(Figure("training_curves.png", "Training curves"))

    s.append(Section("Error analysis"))
    if stats["extent"]:
        s += _extent_blocks(result, stats)
    for n in result.names:
        s.append(Section(n, level=3))
        if n in stats["patients"]:
            s += _patient_blocks(result, stats, n)
        for fname in (f"gradcam_{n}.png", f"worst_images_{n}.png"):
            if fname in figures:
                s.append(Figure(fname, f"Worst-scored images of {n}"))
        if n in notes:
            s.append(Paragraph(f"{n}: {notes[n]}"))
        maps = stats.get("slide_maps", {}).get(n)
        if maps is not None:
            if maps.files:
                s.append(
                    Paragraph(
                        "Slide maps of the patients whose out-of-fold "
                        "probabilities fit best and worst (per-patient Brier "
                        f"score, among {maps.rule}): every patch at its place in "
                        "the slide, the ground truth left, the predicted "
                        f"probability of {result.pos_label} right; grey: no patch."
                    )
                )
            s += [Figure(fname, caption) for fname, caption in maps.files]
            if maps.note:
                s.append(Paragraph(f"{n}: {maps.note}"))

    s.append(Section("Classification reports (pooled out-of-fold predictions)"))
    s.append(
        Paragraph(
            "scikit-learn's classification report of every model's pooled "
            f"out-of-fold predictions; the positive class is {result.pos_label}."
        )
    )
    for n in result.names:
        s.append(Section(n, level=3))
        s.append(report_table(stats["classification_report"][n]))

    s.append(Section("Leakage check"))
    lk = result.leakage
    items = []
    if lk.checked:
        items.append(
            f"Compared {lk.what}: {lk.total} test image(s) have an identical copy in "
            f"their training set (per split: {lk.per_split}); {lk.n_duplicated} "
            "image(s) of the data have an identical twin."
        )
    else:
        items.append(f"Duplicates: {lk.what}.")
    if result.groups is not None:
        items.append(
            "Patients on both sides of a split: "
            f"{sum(lk.shared_patients)} (per split: {list(lk.shared_patients)})."
        )
    else:
        items.append("No patients: the splits are by image.")
    s.append(BulletList(items))

    s.append(Section("Run"))
    timing = payload["timing"]
    total = sum(timing.values())
    items = []
    if payload["command"]:
        items.append(f"Command: {payload['command']}")
    items.append(f"random state: {payload['random_state']}")
    items += [f"{k}: {v}" for k, v in payload["versions"].items()]
    items.append(
        "time: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in timing.items())
        + (
            f"; the statistics took {timing['statistics'] / total:.1%} of it"
            if total > 0
            else ""
        )
        + (
            f", the colour check {timing['colour_check'] / total:.1%}"
            if total > 0 and "colour_check" in timing
            else ""
        )
    )
    s.append(BulletList(items))
    if payload["data"]:
        s.append(Section("Data"))
        s.append(
            BulletList(
                [f"{k.replace('_', ' ')}: {v}" for k, v in payload["data"].items()]
            )
        )
    s.append(Section("Models"))
    s.append(
        BulletList(
            [
                f"{n}: {m['score']} scores"
                + (", patients passed to fit" if m["groups_passed_to_fit"] else "")
                + (f"; {m['params']}" if m["params"] else "")
                for n, m in payload["models"].items()
            ],
        )
    )
    if payload["baselines"]:
        s.append(Section("Baselines"))
        s.append(
            BulletList(
                [
                    f"{n}: {m['score']} scores"
                    + (f"; {m['params']}" if m["params"] else "")
                    for n, m in payload["baselines"].items()
                ],
            )
        )
    return s


def _fmt_thr(value):
    return "n/a" if not np.isfinite(value) else f"{value:.3g}"


def _patient_blocks(result, stats, n):
    """Return the table of one model's worst patients, with their extent."""
    t = stats["patients"][n]
    shown = t.rows()[:N_PATIENT_ROWS]
    extent = stats["extent"][n]
    shares = {
        p: (a, b)
        for p, a, b in zip(
            extent["patient"], extent["true_share"], extent["predicted_share"]
        )
    }
    score_head = (
        f"Mean p({result.pos_label})"
        if result.score_kind[n] == "predict_proba"
        else "Mean decision value"
    )
    return [
        Paragraph(
            f"Patients, worst first ({len(shown)} of {len(t['patient'])}; all in "
            f"patients.csv). Share {result.pos_label}: true and predicted share "
            f"of the patient's images that are {result.pos_label}.",
        ),
        Table(
            [
                "Patient",
                "True label",
                "Images",
                score_head,
                "Share correct",
                f"Share {result.pos_label}, true",
                f"Share {result.pos_label}, predicted",
            ],
            [
                [str(a), str(b), str(c), f"{d:.3f}", f"{e:.0%}"]
                + [f"{v:.0%}" for v in shares[a]]
                for a, b, c, d, e in shown
            ],
        ),
    ]


def _extent_blocks(result, stats):
    """Return Pearson's r of the true and predicted shares, per model."""
    body = []
    for n in result.names:
        r = stats["extent"][n].correlation
        body.append(
            [
                n,
                _fmt_ci(r.statistic, r.ci_low, r.ci_high),
                format_p(r.pvalue),
                str(r.n_patients),
                r.note,
            ]
        )
    return [
        Paragraph(
            f"Extent: for every patient, the share of its images that are "
            f"{result.pos_label} against the share predicted {result.pos_label} "
            "(pooled out-of-fold predictions); Pearson's r over patients with "
            "its 95% confidence interval (Fisher's z). A high r: the model sees "
            "how much of a patient's tissue is affected, not only whether."
        ),
        Table(["Model", "Pearson r [95% CI]", "p", "Patients", "Note"], body),
    ]
