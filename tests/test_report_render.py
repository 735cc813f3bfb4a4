"""The report renderer: the model, its two formats, and the page in a browser."""

import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skbreast.datasets import make_patches
from skbreast.model_selection import (
    colour_histogram_baseline,
    compare_models,
    thumbnail_baseline,
)
from skbreast.model_selection._format import Table as ResultTable
from skbreast.report import (
    BulletList,
    Figure,
    Paragraph,
    Preformatted,
    Report,
    Section,
    Table,
    evaluation_report,
    metric_rows,
    render_html,
    render_markdown,
    write_report,
)


def _report():
    return Report(
        "A <title>",
        warnings=["Mind the <gap>"],
        sections=[
            Section("", [Paragraph("Intro & more.")]),
            Section(
                "Numbers",
                [
                    Table(["Model", "AUC"], [["a|b", "0.9"]], caption="Scores"),
                    BulletList(["one", "", "two"]),
                    Preformatted("  a\n  b"),
                ],
            ),
            Section("Detail", [Paragraph("Deeper.")], level=3),
        ],
    )


def test_markdown_carries_every_block():
    md = render_markdown(_report())
    assert md.startswith("# A <title>\n\n> **WARNING:** Mind the <gap>\n\n")
    assert "Intro & more.\n\n## Numbers\n\nScores\n\n" in md
    # A "|" inside a cell would split it.
    assert "| Model | AUC |\n|---|---|\n| a/b | 0.9 |\n" in md
    assert "- one\n- two\n" in md and "```\n  a\n  b\n```" in md
    assert "### Detail\n\nDeeper." in md


def test_html_escapes_and_embeds(tmp_path):
    (tmp_path / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    report = _report()
    report.sections.append(Section("Figures", [Figure("f.png", "A figure")]))
    page = render_html(report, tmp_path)
    assert "<title>A &lt;title&gt;</title>" in page
    assert "<div class='warn'>WARNING: Mind the &lt;gap&gt;</div>" in page
    assert "<h2>Numbers</h2>" in page and "<h3>Detail</h3>" in page
    assert "<caption>Scores</caption>" in page and "<td>a|b</td>" in page
    assert "<li>one</li><li>two</li>" in page and "Intro &amp; more." in page
    assert 'alt="A figure" src="data:image/png;base64,iVBORw' in page


def test_write_report_writes_both_pages(tmp_path):
    path = write_report(_report(), tmp_path)
    assert path == os.path.join(tmp_path, "report.html")
    assert (tmp_path / "report.md").read_text().startswith("# A <title>")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_result_tables_render_through_the_templates():
    table = ResultTable({"model": ["cnn"], "roc_auc": [float("nan")]})
    table.warnings = ["careful"]
    md = table.to_markdown()
    assert (
        md == "> **WARNING:** careful\n\n| model | roc_auc |\n|---|---|\n| cnn | n/a |"
    )
    assert "<th>roc_auc</th>" in table.to_html() and "careful" in table.to_html()


def test_evaluation_report_sections():
    rows = metric_rows(
        {"roc_auc": 0.75, "brier_score": float("nan")},
        {"roc_auc": {"low": 0.6, "high": 0.9}},
    )
    assert rows[0][1:] == ("ROC AUC", 0.75, "0.750", "[0.600, 0.900]")
    assert rows[1][3:] == ("n/a", "")
    report = evaluation_report(
        rows,
        note="One evaluation.",
        classification_report="report\n",
        figures=["roc_curve.png"],
        command="skbreast evaluate m.skb",
        versions={"numpy": "2"},
        data={"class_balance": "even"},
    )
    md = render_markdown(report)
    assert "| ROC AUC | 0.750 | [0.600, 0.900] |" in md
    assert "![ROC curve](roc_curve.png)" in md
    assert "- Command: skbreast evaluate m.skb" in md and "- class balance: even" in md
    titles = [s.title for s in report.sections]
    assert titles == ["", "Classification report", "Figures", "Run", "Data"]


# ------------------------------------------------------------- in a browser
CHROMIUM = next(
    (
        shutil.which(n)
        for n in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(n)
    ),
    None,
)
# Written into the page: the right edge of every table, in CSS pixels.
MEASURE = (
    "<script>document.body.setAttribute('data-table-right', "
    "[].map.call(document.querySelectorAll('table'), function (t) "
    "{return Math.ceil(t.getBoundingClientRect().right);}).join(','));</script>"
)


def _table_right_edges(page, folder):
    path = folder / "measured.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={folder / 'profile'}",
            "--window-size=1280,2000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r'data-table-right="([0-9,]*)"', dom)
    assert found, dom[-2000:]
    return [int(v) for v in found.group(1).split(",") if v]


def _flat_model(C):
    flatten = FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0)
    return make_pipeline(flatten, LogisticRegression(C=C))


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (headless)")
def test_every_table_fits_a_1280_px_window(tmp_path):
    # Every section with a table: shortcut and colour checks, external data.
    data = make_patches(
        n_samples=96, image_size=(24, 24), n_patients=24, random_state=0
    )
    test = np.isin(data.groups, np.unique(data.groups)[:6])
    # Slide positions: each patient's patches on a 4-wide grid (slide maps).
    rank = np.array([np.sum(data.groups[:i] == g) for i, g in enumerate(data.groups)])
    coords = np.column_stack([rank % 4 * 50, rank // 4 * 50])[~test]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare_models(
            {"a-rather-long-model-name": _flat_model(1.0), "b": _flat_model(0.01)},
            data.images[~test],
            data.target[~test],
            groups=data.groups[~test],
            cv=2,
            random_state=0,
            baselines={
                "colour-histogram": colour_histogram_baseline(bins=8, cv=2),
                "thumbnail": thumbnail_baseline(size=(4, 4), cv=2),
            },
            colour_check=True,
            X_test=data.images[test],
            y_test=data.target[test],
            groups_test=data.groups[test],
            coords=coords,
        )
    path = result.write_report(tmp_path / "report")
    page = path.read_text(encoding="utf-8")
    for section in (
        "Shortcut check",
        "Colour sensitivity",
        "External validation",
        "Classification report",
        "Pearson r",
        "Slide maps of the patients",
    ):
        assert section in page
    edges = _table_right_edges(page, tmp_path)
    assert len(edges) >= 7 and max(edges) <= 1280, edges
