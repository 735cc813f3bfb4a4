"""The report's sections on the checks: shortcut baselines, colour, external data."""

import numpy as np

from skbreast.model_selection._format import MINUS, metric_label, signed
from skbreast.model_selection._report_format import _fmt_ci, _fmt_mean_sd
from skbreast.report import BulletList, Paragraph, Section, Table


def shortcut_section(result, stats):
    table, rows = stats["shortcut"], stats["rows"]
    s = [Section("Shortcut check: trivial baselines")]
    s.append(
        Paragraph(
            f"{len(result.baselines)} trivial baseline(s) ran on the same folds as "
            "the models: logistic regressions that cannot see tissue structure "
            "(colour-histogram: 16-bin histograms of each colour channel; "
            "thumbnail: the images shrunk to 21x32 pixels), with C tuned inside "
            "each training fold. They are not candidate models, and are left out "
            "of the tables above and below; they ask whether the classes can be "
            "told apart without pathology. A baseline that separates the classes "
            "and reaches the best model's pooled ROC AUC within the paired "
            f"{result.unit}-bootstrap 95% CI of the difference, or 0.85 on its "
            "own, triggers the shortcut warning at the top of this report.",
        )
    )
    body = []
    for i, name in enumerate(table["baseline"]):
        auc = rows[(name, "roc_auc")]
        acc = rows.get((name, "balanced_accuracy"))
        best = table["best_model"][i]
        body.append(
            [
                f"{name} (baseline)",
                _fmt_mean_sd(auc["mean"], auc["sd"]),
                _fmt_ci(auc["estimate"], auc["ci_low"], auc["ci_high"]),
                "n/a" if acc is None else _fmt_mean_sd(acc["mean"], acc["sd"]),
                "n/a"
                if best is None
                else f"{best} {MINUS} {name}: {signed(table['difference'][i])} "
                f"({signed(table['difference_ci_low'][i])} to "
                f"{signed(table['difference_ci_high'][i])})",
                ("SHORTCUT: " if table["fires"][i] else "no: ") + table["reason"][i],
            ]
        )
    s.append(
        Table(
            [
                "Baseline",
                "ROC AUC: mean ± sd over folds",
                "ROC AUC: pooled [95% CI]",
                "Balanced accuracy: mean ± sd",
                "Best model − baseline, pooled ROC AUC (95% CI)",
                "Shortcut?",
            ],
            body,
        )
    )
    if not any(table["fires"]):
        s.append(
            Paragraph(
                "No baseline reaches the models: colour and coarse intensity alone "
                "do not explain the models' scores on these folds. That does not "
                "rule out other shortcuts (patient or site cues in the texture): "
                "validate on other patients or sites.",
            )
        )
    return s


def colour_section(result, stats):
    from skbreast.model_selection._shortcuts import JITTER_STRENGTH, VARIANT_LABELS

    table = stats["colour"]
    low, high = 1 - JITTER_STRENGTH, 1 + JITTER_STRENGTH
    s = [Section("Colour sensitivity")]
    s.append(
        Paragraph(
            "Each fold's model scored the fold's test images three times: as they "
            f"are, {VARIANT_LABELS['normalised']}, and under "
            f"{VARIANT_LABELS['jittered']}, which scales each image's "
            f"haematoxylin, eosin and DAB concentrations by U({low:g}, {high:g}) "
            f"and shifts them by U({MINUS}{JITTER_STRENGTH:g}, {JITTER_STRENGTH:g}), "
            "with the same draws for every model. The "
            "changes are the ROC AUC of "
            "the changed images minus that of the originals, mean ± sd over folds. "
            "A model whose mean change exceeds its fold-to-fold spread of ROC AUC "
            "(the sd of the first column, and at least 0.01) is colour-dependent: "
            "a change of stain moves its score more than a change of test "
            "patients does.",
        )
    )
    body = []
    for i, name in enumerate(table["model"]):
        body.append(
            [
                name + (" (baseline)" if table["role"][i] == "baseline" else ""),
                _fmt_mean_sd(table["roc_auc_mean"][i], table["roc_auc_sd"][i]),
                _fmt_change(
                    table["normalised_change"][i], table["normalised_change_sd"][i]
                ),
                _fmt_change(
                    table["jittered_change"][i], table["jittered_change_sd"][i]
                ),
                table["verdict"][i],
            ]
        )
    s.append(
        Table(
            [
                "Model",
                "ROC AUC as is: mean ± sd over folds",
                "Change, stain-normalised",
                "Change, colour jitter",
                "Verdict",
            ],
            body,
        )
    )
    if result.colour_notes:
        s.append(Paragraph("Stain normalisation notes:"))
        s.append(BulletList(list(result.colour_notes)))
    return s


def _fmt_change(mean, sd):
    if not np.isfinite(mean):
        return "n/a"
    return signed(mean) + ("" if not np.isfinite(sd) else f" ± {sd:.3f}")


_EXTERNAL_METRICS = (
    "roc_auc",
    "balanced_accuracy",
    "recall",
    "specificity",
    "brier_score",
    "patient_accuracy",
    "patient_roc_auc",
)


def external_section(result, stats):
    table, ext = stats["external"], result.external
    s = [Section("External validation")]
    s.append(
        Paragraph(
            f"Every model and baseline was fitted once on all {len(result.y)} "
            f"training images and scored on the external test set: "
            f"{ext.n_samples} images"
            + (
                f" of {ext.n_patients} patients"
                if ext.n_patients is not None
                else " (no patients given)"
            )
            + ". Beside it, the cross-validated scores of the same recipe: the "
            "mean ± sd over folds and the pooled out-of-fold value. Intervals: "
            f"95%, by {ext.unit} bootstrap on the external set. A score that "
            "drops on new patients or a new site is what cross-validation inside "
            "one patient pool cannot show.",
        )
    )
    if ext.shared_patients == 0:
        s.append(
            Paragraph("No patient id of the test set occurs in the training data.")
        )
    if ext.notes:
        s.append(BulletList(list(ext.notes)))
    body = []
    for i, name in enumerate(table["model"]):
        metric = table["metric"][i]
        if metric not in _EXTERNAL_METRICS:
            continue
        body.append(
            [
                name + (" (baseline)" if table["role"][i] == "baseline" else ""),
                metric_label(metric),
                _fmt_mean_sd(table["cv_mean"][i], table["cv_sd"][i]),
                _fmt_ci(
                    table["cv_estimate"][i],
                    table["cv_ci_low"][i],
                    table["cv_ci_high"][i],
                ),
                _fmt_ci(
                    table["external"][i],
                    table["external_ci_low"][i],
                    table["external_ci_high"][i],
                ),
                signed(table["change"][i]),
            ]
        )
    s.append(
        Table(
            [
                "Model",
                "Metric",
                "Cross-validated: mean ± sd over folds",
                "Cross-validated: pooled [95% CI]",
                "External [95% CI]",
                "External − pooled CV",
            ],
            body,
        )
    )
    return s
