"""The report model: plain data that the templates render as HTML and Markdown.

A report is a title, warnings shown first, and sections of blocks (paragraphs,
bullet lists, tables, figures, preformatted text). Builders (a comparison's, a
held-out evaluation's) only fill these records; how they look lives in the
templates, so HTML and Markdown always carry the same content.
"""

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Paragraph:
    """A paragraph of plain text.

    Examples
    --------
    >>> from skbreast.report import Paragraph, Report, Section, render_markdown
    >>> report = Report("R", sections=[Section("S", [Paragraph("Some text.")])])
    >>> "Some text." in render_markdown(report)
    True
    """

    text: str
    kind: ClassVar[str] = "paragraph"


@dataclass
class BulletList:
    """A bullet list of plain-text items (empty items are left out).

    Examples
    --------
    >>> from skbreast.report import BulletList, Report, Section, render_markdown
    >>> report = Report("R", sections=[Section("S", [BulletList(["a", "", "b"])])])
    >>> [line for line in render_markdown(report).splitlines() if line.startswith("-")]
    ['- a', '- b']
    """

    items: list
    kind: ClassVar[str] = "bullets"


@dataclass
class Preformatted:
    """Text shown as is, in a fixed-width font (e.g. a classification report).

    Examples
    --------
    >>> from skbreast.report import Preformatted, Report, Section, render_html
    >>> report = Report("R", sections=[Section("S", [Preformatted("a  b")])])
    >>> "a  b" in render_html(report)
    True
    """

    text: str
    kind: ClassVar[str] = "preformatted"


@dataclass
class Table:
    """A table of text cells: ``headers`` and ``rows`` of as many cells.

    ``caption`` is shown above it.

    Examples
    --------
    >>> from skbreast.report import Table, render_table
    >>> table = Table(["Metric", "Value"], [["Accuracy", "0.900"]], caption="Scores")
    >>> print(render_table(table, "markdown"))
    Scores
    <BLANKLINE>
    | Metric | Value |
    |---|---|
    | Accuracy | 0.900 |
    """

    headers: list
    rows: list
    caption: str = ""
    kind: ClassVar[str] = "table"


@dataclass
class Figure:
    """A PNG file of the report's folder, by its file name, with a caption.

    The HTML page embeds the file; the Markdown page links it.

    Examples
    --------
    >>> from skbreast.report import Figure, Report, Section, render_markdown
    >>> figure = Figure("roc_curve.png", "ROC curve")
    >>> report = Report("R", sections=[Section("Figures", [figure])])
    >>> "![ROC curve](roc_curve.png)" in render_markdown(report)
    True
    """

    path: str
    caption: str
    kind: ClassVar[str] = "figure"


@dataclass
class Section:
    """A titled section (``level`` 2) or sub-section (3) of blocks.

    A section without a title holds the blocks before the first heading.

    Examples
    --------
    >>> from skbreast.report import Paragraph, Report, Section, render_markdown
    >>> section = Section("Details", [Paragraph("More.")], level=3)
    >>> "### Details" in render_markdown(Report("R", sections=[section]))
    True
    """

    title: str = ""
    blocks: list = field(default_factory=list)
    level: int = 2


@dataclass
class Report:
    """A report: a title, its warnings, then its sections.

    Parameters
    ----------
    title : str
        The page title and first heading.
    warnings : list of str, default=[]
        Shown first, highlighted.
    sections : list of Section, default=[]
        The body, in order.

    Examples
    --------
    >>> from skbreast.report import Paragraph, Report, Section, render_markdown
    >>> report = Report("A report", sections=[Section("Data", [Paragraph("Ten.")])])
    >>> print(render_markdown(report).strip())
    # A report
    <BLANKLINE>
    ## Data
    <BLANKLINE>
    Ten.
    """

    title: str
    warnings: list = field(default_factory=list)
    sections: list = field(default_factory=list)
