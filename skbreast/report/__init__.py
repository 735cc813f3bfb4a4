"""Reports: a plain-data model rendered to HTML and Markdown from templates.

The comparison report (:meth:`skbreast.model_selection.ComparisonResult.write_report`)
and the held-out evaluation report (``skbreast evaluate``) are both a
:class:`Report` of :class:`Section` s, written by :func:`write_report`; the
look lives in the Jinja2 templates shipped in ``skbreast/report/templates``.
"""

from skbreast.report._evaluation import evaluation_report, metric_rows
from skbreast.report._model import (
    BulletList,
    Figure,
    Paragraph,
    Preformatted,
    Report,
    Section,
    Table,
)
from skbreast.report._render import (
    render_html,
    render_markdown,
    render_table,
    save_figure,
    write_csv,
    write_json,
    write_report,
    write_text,
)

__all__ = [
    "BulletList",
    "Figure",
    "Paragraph",
    "Preformatted",
    "Report",
    "Section",
    "Table",
    "evaluation_report",
    "metric_rows",
    "render_html",
    "render_markdown",
    "render_table",
    "save_figure",
    "write_csv",
    "write_json",
    "write_report",
    "write_text",
]
