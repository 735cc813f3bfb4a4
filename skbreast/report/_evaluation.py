"""The report of one held-out evaluation (``skbreast evaluate``), as a Report."""

import math

from skbreast.report._model import (
    BulletList,
    Figure,
    Paragraph,
    Preformatted,
    Report,
    Section,
    Table,
)

#: Captions of the figures an evaluation may have, by file name.
FIGURE_CAPTIONS = {
    "roc_curve.png": "ROC curve",
    "confusion_matrix.png": "Confusion matrix",
    "training_curves.png": "Training curves",
}


def metric_rows(scores, intervals):
    """Return one row per metric: key, label, value, value shown, interval shown.

    Parameters
    ----------
    scores : dict
        ``{metric key: value}``, NaN where undefined.
    intervals : dict
        ``{metric key: {"low": float or None, "high": ...}}`` for the metrics
        given a confidence interval.

    Returns
    -------
    rows : list of tuple
        ``(key, label, value, shown, interval)``; ``interval`` is ``"[low, high]"``,
        ``"n/a"`` when it is undefined, or empty for a metric without one.

    Examples
    --------
    >>> from skbreast.report import metric_rows
    >>> rows = metric_rows(
    ...     {"accuracy": 0.9, "roc_auc": float("nan")},
    ...     {"accuracy": {"low": 0.8, "high": 0.95}},
    ... )
    >>> [(key, shown, interval) for key, _, _, shown, interval in rows]
    [('accuracy', '0.900', '[0.800, 0.950]'), ('roc_auc', 'n/a', '')]
    """
    from skbreast.metrics import get_metric

    rows = []
    for key, value in scores.items():
        ci = intervals.get(key) or {}
        if ci.get("low") is not None:
            text = f"[{ci['low']:.3f}, {ci['high']:.3f}]"
        else:
            text = "n/a" if key in intervals else ""
        shown = "n/a" if math.isnan(value) else f"{value:.3f}"
        rows.append((key, get_metric(key).label, value, shown, text))
    return rows


def evaluation_report(
    rows,
    *,
    note,
    classification_report,
    figures=(),
    warnings=(),
    command=None,
    versions=None,
    data=None,
    captions=None,
):
    """Return the report of one held-out evaluation.

    Parameters
    ----------
    rows : list of tuple
        From :func:`metric_rows`.
    note : str
        What was evaluated, on what, and how the intervals were made.
    classification_report : Table or str
        The classification report: a table (what ``skbreast evaluate`` gives,
        from the same function as
        :meth:`skbreast.model_selection.ComparisonResult.classification_report`),
        or :func:`sklearn.metrics.classification_report`'s text, shown as is.
    figures : list of str, default=()
        File names of the figures in the report's folder.
    warnings : list of str, default=()
        Shown first.
    command : str, default=None
        The command line that made the report.
    versions : dict, default=None
        ``{package: version}``.
    data : dict, default=None
        A summary of the data (``{name: value}``).
    captions : dict of str to str, default=None
        Captions of figures by file name, for figures without a standard one
        (e.g. the slide maps of the best and the worst patient).

    Returns
    -------
    report : Report
        Render it with :func:`skbreast.report.write_report`.

    Examples
    --------
    >>> from skbreast.report import evaluation_report, metric_rows
    >>> rows = metric_rows({"accuracy": 0.9}, {})
    >>> report = evaluation_report(
    ...     rows, note="A test set of ten images.", classification_report="..."
    ... )
    >>> [section.title for section in report.sections]
    ['', 'Classification report', 'Run']
    """
    table = Table(
        ["Metric", "Value", "95% CI"],
        [[label, shown, ci] for _, label, _, shown, ci in rows],
    )
    if isinstance(classification_report, str):
        classification_report = Preformatted(classification_report.rstrip())
    sections = [
        Section("", [Paragraph(note), table]),
        Section("Classification report", [classification_report]),
    ]
    captions = {**FIGURE_CAPTIONS, **(captions or {})}
    if figures:
        sections.append(
            Section(
                "Figures",
                [Figure(f, captions.get(f, f[:-4])) for f in figures],
            )
        )
    run = [f"Command: {command}"] if command else []
    run += [f"{k}: {v}" for k, v in (versions or {}).items()]
    sections.append(Section("Run", [BulletList(run)]))
    if data:
        items = [f"{k.replace('_', ' ')}: {v}" for k, v in data.items()]
        sections.append(Section("Data", [BulletList(items)]))
    return Report("skbreast evaluation report", list(warnings), sections)
