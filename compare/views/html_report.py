"""`--report FILE.html`: one self-contained page for the lecture hall.

A table of contents, the measured table, the training curves, lines of code per step, the
concept map and both styles side by side, aligned by step and highlighted by
pygments. Figures are embedded as PNG data, styles inline: the page needs no network.
Projected (1280x720), body text is 20 px and code 18 px; below 900 px the Keras block of
each step stands above its raw twin; printed, the pages are A4 with 9.5 pt code. Each code
line is a block with a hanging indent, so a line that wraps goes on under itself.
"""

import base64
import html
import re

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.style import Style
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token
from tabulate import tabulate

from compare.language import HTML_LANG, _, speaking
from compare.views.code_view import (
    SETUP,
    implementation_steps,
    shown_sections,
    view_titles,
)
from compare.views.concepts import concept_map_entries
from compare.views.glossary import entries as glossary_entries
from compare.views.i18n import TEXT
from compare.views.plots import lines_of_code_chart, png_bytes, training_curves
from compare.views.report import summary, table_headers, table_rows

# A wrapped code line goes on this many columns further in than the line it continues.
HANGING_INDENT = 4
# A run of code this long with no other place to break may break after an underscore.
LONG_RUN = 24
# At this width (px) and below, each step's Keras block stands above its raw twin.
NARROW = 900

PAGE_STYLE = f"""
html {{ font-size: 20px; }}
body {{ font-family: system-ui, sans-serif; line-height: 1.45; color: #111; background: #fff;
       margin: 0 auto; max-width: 1800px; padding: .6rem 1.2rem 3rem; }}
h1 {{ font-size: 2.1rem; margin: .3rem 0 .5rem; }}
h2 {{ font-size: 1.55rem; margin: 1.8rem 0 .6rem; border-bottom: 3px solid #555; }}
h3 {{ font-size: 1.3rem; margin: 1.4rem 0 .4rem; }}
section {{ scroll-margin-top: .5rem; }}
a {{ color: #0b3d91; }}
nav.toc h2 {{ font-size: 1.2rem; margin: .4rem 0 .2rem; border: 0; }}
nav.toc ol {{ margin: 0; padding-left: 1.6rem; }}
nav.toc ol ol {{ display: flex; flex-wrap: wrap; gap: 0 1.6rem; padding-left: 1rem;
                list-style: none; }}
table {{ border-collapse: collapse; margin: .6rem 0; max-width: 100%; }}
.table-box {{ max-width: 100%; overflow-x: auto; }}
th, td {{ border: 1px solid #767676; padding: .3rem .55rem; text-align: left;
          vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #e8e8e8; }}
table.measured td:not(:first-child) {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.measured tbody tr:nth-child(-n+2) td {{ text-align: left; }}
table.concepts {{ width: 100%; }}
table.concepts th:nth-child(1) {{ width: 30%; }} table.concepts th:nth-child(2) {{ width: 27%; }}
table.concepts code {{ display: block; padding-left: 2ch; text-indent: -2ch; }}
table.concepts .where {{ display: block; margin-bottom: .3rem; color: #444; font-size: .9rem; }}
.note {{ font-style: italic; }} .empty {{ margin: 0; padding: .4rem .6rem; font-style: italic; }}
.summary {{ color: #333; white-space: pre-line; }}
figure {{ margin: 1rem 0; }} figure img {{ max-width: 100%; height: auto; }}
code, pre {{ font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; }}
code {{ font-size: .9rem; }}
.pair {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .8rem;
         align-items: start; }}
.block {{ border: 1px solid #767676; min-width: 0; }}
.block h4 {{ margin: 0; padding: .15rem .6rem; font-size: 1rem; background: #dde5f0; }}
.block .highlight {{ background: #fff; }}
.block pre {{ margin: 0; padding: .4rem .6rem; font-size: .9rem; line-height: 1.35;
              white-space: pre-wrap; overflow-wrap: break-word; }}
.line {{ display: block; min-height: 1.35em; padding-left: var(--hang);
         text-indent: calc(-1 * var(--hang)); }}
@media screen and (max-width: {NARROW}px) {{
  html {{ font-size: 18px; }}
  .pair {{ grid-template-columns: minmax(0, 1fr); }}
  .block pre, code {{ font-size: 1rem; }}
  /* the concept map as one card per concept: the Keras call, what it hides, the raw lines */
  table.concepts, table.concepts tbody, table.concepts tr, table.concepts td {{ display: block; }}
  table.concepts thead {{ display: none; }}
  table.concepts tr {{ border: 1px solid #767676; margin-bottom: .7rem; }}
  table.concepts td {{ border: 0; }} table.concepts td + td {{ border-top: 1px solid #bbb; }}
  table.concepts td::before {{ content: attr(data-label); display: block; font-weight: bold; }}
}}
@media screen and (max-width: 600px) {{ html {{ font-size: 16px; }} body {{ padding: .4rem .5rem; }} }}
"""

# Printed: A4, the code stacked at full width (88 columns fit at 9.5 pt), no heading left at
# a page bottom, tables as wide as the page and no wider.
PRINT_STYLE = """
@page { size: A4; margin: 14mm 12mm 16mm; }
html { font-size: 11pt; }
body { max-width: none; padding: 0; }
a { color: inherit; text-decoration: none; }
h1, h2, h3, h4 { break-after: avoid; break-inside: avoid; }
h2 { margin-top: 1.2rem; }
.table-box { overflow: visible; }
table.measured, table.concepts { width: 100%; }
tr, figure, .note, .summary { break-inside: avoid; }
figure img { max-height: 110mm; }
.pair { display: block; }
.block { margin-bottom: .5rem; }
.block.keras, .line { break-inside: avoid; }
.block pre, code { font-size: 9.5pt; }
"""


class ProjectorStyle(Style):
    """Pygments colours that survive a projector: every one at least 7:1 against white."""

    background_color = "#ffffff"
    styles = {
        Token: "#1a1a1a",
        Comment: "italic #116329",
        String.Doc: "#116329",
        Keyword: "bold #0b3d91",
        Operator.Word: "bold #0b3d91",
        Name.Function: "bold #005f73",
        Name.Class: "bold #005f73",
        Name.Builtin: "#6a1b9a",
        Name.Decorator: "bold #6a1b9a",
        Name.Exception: "#6a1b9a",
        String: "#8b0000",
        String.Interpol: "#0b3d91",
        String.Affix: "#0b3d91",
        Number: "#953800",
    }


class LineBlocks(HtmlFormatter):
    """Pygments' HTML with each source line its own block, indented by a hanging indent of
    its leading spaces plus HANGING_INDENT columns: a line too long for its column wraps
    under itself, never at column 0."""

    def __init__(self, lines, **options):
        super().__init__(style=ProjectorStyle, cssclass="highlight", **options)
        self.hangs = [
            len(line) - len(line.lstrip(" ")) + HANGING_INDENT for line in lines
        ]

    def wrap(self, source):
        yield 0, "<pre>"
        hangs = iter(self.hangs)
        for is_code, piece in source:
            if is_code:
                piece = (
                    f'<span class="line" style="--hang: {next(hangs)}ch">{piece}</span>'
                )
            yield is_code, piece
        yield 0, "</pre>"


def highlighted(lines):
    if not lines:
        return f'<p class="empty">{html.escape(_("(no code in this step)"))}</p>'
    return highlight("\n".join(lines), PythonLexer(), LineBlocks(lines))


def embedded_png(figure, description):
    data = base64.b64encode(png_bytes(figure)).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(description)}"></figure>'


def quoted(code):
    """Code in a table cell, breakable (<wbr>) after a dot, a bracket or a comma, and a run
    of more than LONG_RUN characters with none of those also after its underscores
    (`"sparse_categorical_crossentropy"`): a name is split only where it has to be."""
    marked = re.sub(r"(?<=[.(\[,])", "\0", code)
    marked = re.sub(
        rf"[^\s\0]{{{LONG_RUN + 1},}}", lambda run: run[0].replace("_", "_\0"), marked
    )
    return html.escape(marked).replace("\0", "<wbr>")


def quote(text, where):
    """A quoted line of code and, under it, the file:line it comes from."""
    return f'<code>{quoted(text)}</code><span class="where">{html.escape(where)}</span>'


def concept_map_table(lang):
    words = TEXT[lang]
    headings = [words[key] for key in ("keras_call", "hides", "raw_lines")]
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{heading}">{cell}</td>'
            for heading, cell in zip(
                headings,
                (
                    quote(row.keras, row.keras_at),
                    html.escape(row.hides),
                    "".join(quote(text, where) for text, where in row.raw),
                ),
                strict=True,
            )
        )
        + "</tr>"
        for row in concept_map_entries(lang)
    )
    head = "".join(f"<th>{heading}</th>" for heading in headings)
    return f'<table class="concepts"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def step_id(step):
    """The anchor of a step's code: #imports, #step-define, ..., #step-extras."""
    return "imports" if step == SETUP else f"step-{step}"


def side_by_side_code(lang, model="cnn"):
    """Both styles, the imports then step by step, and the sections shown:
    (HTML, [(step, title), ...])."""
    steps, titles = implementation_steps(model), view_titles(lang)
    shown = [(step, titles[step]) for step in shown_sections(steps, imports=True)]
    sections = "".join(
        f'<section class="step" id="{step_id(step)}"><h3>{title}</h3><div class="pair">'
        + "".join(
            f'<div class="block {name}"><h4>{titles[name]}</h4>'
            f"{highlighted(steps[name].get(step, []))}</div>"
            for name in ("keras", "raw_tf")
        )
        + "</div></section>"
        for step, title in shown
    )
    return sections, shown


def table_of_contents(sections, steps):
    """Links to each section, the code's steps nested under the code."""
    items = "".join(
        f'<li><a href="#{anchor}">{title}</a>'
        + (
            "<ol>"
            + "".join(
                f'<li><a href="#{step_id(step)}">{name}</a></li>'
                for step, name in steps
            )
            + "</ol>"
            if anchor == "code"
            else ""
        )
        + "</li>"
        for anchor, title, _body in sections
    )
    return f'<nav class="toc" aria-labelledby="contents"><h2 id="contents">{_("Contents")}</h2><ol>{items}</ol></nav>'


def glossary_list():
    """The glossary (compare/views/glossary.py) under the table, in the current language."""
    items = "".join(
        f"<li><b>{html.escape(term)}</b>: {html.escape(meaning)}.</li>"
        for term, meaning in glossary_entries()
    )
    return (
        f'<p class="glossary">{html.escape(_("Words used above:"))}</p><ul>{items}</ul>'
    )


def render_html(report, lang="en"):
    """The whole page as a string."""
    with speaking(lang):
        return page(report, lang)


def page(report, lang):
    words, results = TEXT[lang], report["results"]
    measured = tabulate(
        table_rows(results, lang), table_headers(results, lang), tablefmt="html"
    )
    measured = measured.replace("<table>", '<table class="measured">', 1)
    models = list(dict.fromkeys(result.get("model", "cnn") for result in results))
    # the last model's step 1: the fuller one
    code, steps = side_by_side_code(lang, models[-1])
    # The timer leaves out the per-epoch test scoring (harness.callbacks.TestScores): said
    # right under the table, and not again in the summary lines below it.
    timing_note = _(
        "The timings leave out scoring the test set after each epoch (for the curves)"
    )
    details = "\n".join(
        line for line in summary(report).splitlines() if line != timing_note
    )
    sections = [  # (anchor, heading, body)
        (
            "measured",
            words["measured"],
            f'<div class="table-box">{measured}</div><p class="note">{html.escape(timing_note)}.</p>'
            f'<p class="summary">{html.escape(details)}</p>{glossary_list()}',
        ),
        (
            "curves",
            words["curves"],
            embedded_png(training_curves(results, lang), words["curves"]),
        ),
        (
            "lines-of-code",
            words["loc_chart"],
            embedded_png(lines_of_code_chart(results, lang), words["loc_chart"]),
        ),
        (
            "concept-map",
            words["concept_map"],
            f'<div class="table-box">{concept_map_table(lang)}</div>',
        ),
        ("code", words["side_by_side"], code),
    ]
    body = "\n".join(
        f'<section id="{anchor}"><h2>{title}</h2>\n{content}</section>'
        for anchor, title, content in sections
    )
    code_style = HtmlFormatter(style=ProjectorStyle).get_style_defs(".highlight")
    return f"""<!DOCTYPE html>
<html lang="{HTML_LANG[lang]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{words["title"]}</title>
<style>{PAGE_STYLE}{code_style}</style>
<style media="print">{PRINT_STYLE}</style>
</head>
<body>
<h1 id="top">{words["title"]}</h1>
{table_of_contents(sections, steps)}
{body}
</body>
</html>
"""
