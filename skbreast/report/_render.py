"""Render a :class:`Report` with the package's Jinja2 templates, and write it."""

import base64
import csv
import json
import os
from functools import lru_cache

from skbreast._fileio import atomic_write


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("skbreast.report", "templates"),
        # HTML templates escape every value; Markdown ones take text as is.
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    # A "|" inside a Markdown cell would end the cell.
    env.filters["md_cell"] = lambda text: str(text).replace("|", "/")
    return env


def render_markdown(report):
    """Return ``report`` as Markdown; figures link their files.

    Parameters
    ----------
    report : Report
        The report.

    Returns
    -------
    text : str
        The Markdown page.

    Examples
    --------
    >>> from skbreast.report import Paragraph, Report, Section, render_markdown
    >>> report = Report("A report", sections=[Section("Data", [Paragraph("Ten.")])])
    >>> render_markdown(report).splitlines()[0]
    '# A report'
    """
    return _environment().get_template("report.md.j2").render(report=report)


def render_html(report, folder="."):
    """Return ``report`` as a self-contained HTML page, figures embedded.

    Parameters
    ----------
    report : Report
        The report.
    folder : path-like, default="."
        The folder that holds the figures' files.

    Returns
    -------
    text : str
        The HTML page.

    Examples
    --------
    >>> from skbreast.report import Paragraph, Report, Section, render_html
    >>> report = Report("A report", sections=[Section("Data", [Paragraph("Ten.")])])
    >>> html = render_html(report)
    >>> "<html" in html and "A report" in html
    True
    """

    def embed(path):
        with open(os.path.join(folder, path), "rb") as f:
            return base64.b64encode(f.read()).decode("ascii")

    template = _environment().get_template("report.html.j2")
    return template.render(report=report, embed=embed)


def render_table(table, fmt, warnings=()):
    """Return one :class:`Table` as an HTML or Markdown fragment.

    Parameters
    ----------
    table : Table
        The table.
    fmt : {"html", "markdown"}
        The format.
    warnings : list of str, default=()
        Shown above the table.

    Returns
    -------
    text : str
        The fragment.

    Examples
    --------
    >>> from skbreast.report import Table, render_table
    >>> table = Table(["Metric", "Value"], [["Accuracy", "0.900"]])
    >>> html = render_table(table, "html")
    >>> "<table" in html and "<td>Accuracy</td>" in html
    True
    """
    name = {"html": "table.html.j2", "markdown": "table.md.j2"}[fmt]
    template = _environment().get_template(name)
    return template.render(table=table, warnings=list(warnings)).strip("\n")


def write_report(report, out):
    """Write ``report`` as report.md and report.html into ``out``.

    Parameters
    ----------
    report : Report
        The report; its figures' files must already be in ``out``.
    out : path-like
        The folder.

    Returns
    -------
    path : str
        The path of report.html.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from skbreast.report import Paragraph, Report, Section, write_report
    >>> out = tempfile.mkdtemp()
    >>> report = Report("A report", sections=[Section("Data", [Paragraph("Ten.")])])
    >>> os.path.basename(write_report(report, out))
    'report.html'
    >>> sorted(os.listdir(out))
    ['report.html', 'report.md']
    """
    write_text(os.path.join(out, "report.md"), render_markdown(report))
    path = os.path.join(out, "report.html")
    write_text(path, render_html(report, out))
    return path


def write_text(path, text):
    """Write ``text`` to ``path`` (UTF-8) atomically.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from skbreast.report import write_text
    >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> write_text(path, "Hello")
    >>> with open(path, encoding="utf-8") as f:
    ...     f.read()
    'Hello'
    """
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json(path, payload):
    """Write ``payload`` to ``path`` as indented JSON, atomically.

    Examples
    --------
    >>> import json
    >>> import os
    >>> import tempfile
    >>> from skbreast.report import write_json
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.json")
    >>> write_json(path, {"accuracy": 0.9})
    >>> with open(path, encoding="utf-8") as f:
    ...     json.load(f)
    {'accuracy': 0.9}
    """
    write_text(path, json.dumps(payload, indent=2, default=str))


def write_csv(path, header, rows):
    """Write ``header`` and ``rows`` to ``path`` as CSV, atomically.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from skbreast.report import write_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> write_csv(path, ["metric", "value"], [["accuracy", 0.9]])
    >>> with open(path, encoding="utf-8") as f:
    ...     f.read().splitlines()
    ['metric,value', 'accuracy,0.9']
    """
    with atomic_write(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def save_figure(figure, path):
    """Save a Matplotlib ``figure`` to ``path`` as PNG, atomically.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from matplotlib.figure import Figure as MplFigure
    >>> from skbreast.report import save_figure
    >>> figure = MplFigure(figsize=(2, 2))
    >>> _ = figure.subplots().plot([0, 1], [0, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "line.png")
    >>> save_figure(figure, path)
    >>> with open(path, "rb") as f:
    ...     f.read(8)[1:4]
    b'PNG'
    """
    with atomic_write(path, "wb") as f:
        figure.savefig(f, format="png", dpi=110, bbox_inches="tight")
