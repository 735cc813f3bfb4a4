"""scikit-learn's classification report as a table: one function for every report.

:meth:`ComparisonResult.classification_report`, the comparison report and the
report of ``skbreast evaluate`` all read :func:`classification_table`.
"""

from sklearn.metrics import classification_report

from skbreast.model_selection._format import Table

#: Headers of the report's table, by column of :func:`classification_table`.
HEADERS = {
    "class": "Class",
    "precision": "Precision",
    "recall": "Recall",
    "f1_score": "F1 score",
    "support": "Support",
}


def classification_table(y_true, y_pred, *, labels, target_names):
    """Return :func:`sklearn.metrics.classification_report` as a :class:`Table`.

    One row per class (in the order of ``labels``), then ``accuracy`` (in the
    ``f1_score`` column, as scikit-learn prints it), ``macro avg`` and
    ``weighted avg``; undefined ratios (no prediction of a class) are 0, as
    with ``zero_division=0``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : list
        The two (or more) labels, negative first.
    target_names : list of str
        Their names in the table.

    Returns
    -------
    table : Table
        Columns ``class``, ``precision``, ``recall``, ``f1_score`` and
        ``support``.

    Examples
    --------
    >>> from skbreast.model_selection._classification import classification_table
    >>> table = classification_table([0, 0, 1, 1], [0, 1, 1, 1], labels=[0, 1],
    ...                              target_names=["non_idc", "idc"])
    >>> print(table)
    class         precision  recall  f1_score  support
    non_idc       1.000      0.500   0.667     2
    idc           0.667      1.000   0.800     2
    accuracy                         0.750     4
    macro avg     0.833      0.750   0.733     4
    weighted avg  0.833      0.750   0.733     4
    """
    names = [str(t) for t in target_names]
    report = classification_report(
        y_true,
        y_pred,
        labels=list(labels),
        target_names=names,
        output_dict=True,
        zero_division=0,
    )
    columns = {key: [] for key in HEADERS}
    total = 0
    for key, row in report.items():
        if not isinstance(row, dict):  # accuracy: one number
            values = (None, None, float(row), None)
        else:
            values = (
                float(row["precision"]),
                float(row["recall"]),
                float(row["f1-score"]),
                int(row["support"]),
            )
            if key in names:
                total += values[3]
        columns["class"].append(key)
        for column, value in zip(list(HEADERS)[1:], values):
            columns[column].append(value)
    columns["support"] = [total if v is None else v for v in columns["support"]]
    return Table(columns)


def report_table(table, caption=""):
    """Return a :func:`classification_table` as a :class:`skbreast.report.Table`."""
    from skbreast.report import Table as ReportTable

    _, rows = table._formatted()
    return ReportTable([HEADERS[k] for k in table], rows, caption=caption)
