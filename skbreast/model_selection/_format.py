"""Formatting shared by the result and the report: labels, numbers, p-values, tables."""

import math

import numpy as np

from skbreast.metrics import get_metric, get_metric_names

MINUS = "\u2212"


def _registered(key):
    """Return the registry's metric of ``key``, or None for a custom metric."""
    # Exact keys only: a custom metric may be called "ece" without meaning ours.
    return get_metric(key) if key in get_metric_names() else None


def metric_label(key):
    """Return the table label of metric ``key``; a custom metric's name as is."""
    metric = _registered(key)
    return key if metric is None else metric.label


def metric_short_label(key, capitalize=False):
    """Return the name of metric ``key`` inside a sentence (or a table cell).

    ``capitalize`` starts it with a capital, for a table cell: "Accuracy".
    """
    metric = _registered(key)
    text = key if metric is None else metric.short_label
    return text[:1].upper() + text[1:] if capitalize else text


def lower_is_better(key):
    """Whether a smaller value of metric ``key`` is better (False for custom ones)."""
    metric = _registered(key)
    return metric is not None and not metric.greater_is_better


def signed(value, digits=3):
    """``+0.009`` / ``−0.020`` (a true minus sign), or ``n/a``."""
    if value is None or not np.isfinite(value):
        return "n/a"
    text = f"{value:+.{digits}f}"
    return text.replace("-", MINUS)


def format_p(p, relation=False):
    """Format a p-value: ``< 0.001``, ``0.012`` or ``0.61``; ``n/a`` if undefined.

    The one p-value format of the result and the report. ``relation=True`` is for
    a sentence ("p = 0.012", "p < 0.001"): it adds the ``=`` that ``< 0.001``
    already has.
    """
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    text = f"{p:.3f}" if p < 0.1 else f"{p:.2f}"
    return f"= {text}" if relation else text


class Table(dict):
    """A table as a dict of equal-length columns, in order.

    ``pandas.DataFrame(table)`` turns it into a data frame; ``str(table)`` and
    :meth:`to_markdown` / :meth:`to_html` format it, numbers with three decimals
    and NaN as ``n/a``.

    Examples
    --------
    >>> from skbreast.model_selection._format import Table
    >>> table = Table({"model": ["cnn", "resnet"], "roc_auc": [0.81, float("nan")]})
    >>> print(table)
    model   roc_auc
    cnn     0.810
    resnet  n/a
    >>> len(table.rows())
    2

    A table may carry ``warnings`` (a list of str), printed above it: the
    summary of a comparison whose baselines found a shortcut shows it there.
    """

    #: Warnings shown above the table in every format.
    warnings = ()

    def rows(self):
        """Return the rows as a list of tuples."""
        return list(zip(*self.values())) if self else []

    @staticmethod
    def _cell(value):
        if isinstance(value, (float, np.floating)):
            return "n/a" if math.isnan(value) else f"{value:.3f}"
        if value is None:
            return ""
        return str(value)

    def _formatted(self):
        return [str(k) for k in self], [[self._cell(v) for v in r] for r in self.rows()]

    def to_text(self):
        """Return the table as aligned plain text."""
        header, rows = self._formatted()
        widths = [max(len(c) for c in col) for col in zip(header, *rows)]
        lines = [f"WARNING: {w}" for w in self.warnings]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
            for r in [header, *rows]
        ]
        return "\n".join(lines)

    def _report_table(self):
        from skbreast.report import Table as ReportTable

        return ReportTable(*self._formatted())

    def to_markdown(self):
        """Return the table in Markdown."""
        from skbreast.report import render_table

        return render_table(self._report_table(), "markdown", self.warnings)

    def to_html(self):
        """Return the table as an HTML ``<table>``."""
        from skbreast.report import render_table

        return render_table(self._report_table(), "html", self.warnings)

    __str__ = to_text

    def __repr__(self):
        return self.to_text()
