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
    """
    write_text(os.path.join(out, "report.md"), render_markdown(report))
    path = os.path.join(out, "report.html")
    write_text(path, render_html(report, out))
    return path


def write_text(path, text):
    """Write ``text`` to ``path`` (UTF-8) atomically."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json(path, payload):
    """Write ``payload`` to ``path`` as indented JSON, atomically."""
    write_text(path, json.dumps(payload, indent=2, default=str))


def write_csv(path, header, rows):
    """Write ``header`` and ``rows`` to ``path`` as CSV, atomically."""
    with atomic_write(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def save_figure(figure, path):
    """Save a Matplotlib ``figure`` to ``path`` as PNG, atomically."""
    with atomic_write(path, "wb") as f:
        figure.savefig(f, format="png", dpi=110, bbox_inches="tight")
