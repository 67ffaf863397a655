"""`--report FILE.html`: one self-contained page for the lecture hall.

The measured table, the training curves, lines of code per step, the concept map and both
implementations side by side, aligned by step and highlighted by pygments. Figures are embedded
as PNG data, styles inline: the page needs no network, and prints as well as it projects.
"""

import base64
import html

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from tabulate import tabulate

from compare.views.code_view import implementation_steps, shown_sections
from compare.views.concepts import CONCEPTS
from compare.views.i18n import TEXT, step_titles
from compare.views.plots import lines_of_code_chart, png_bytes, training_curves
from compare.views.report import summary, table_headers, table_rows

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1400px; padding: 0 1rem; color: #222; }
h1 { font-size: 2rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #ddd; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.measured td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
table.measured tbody tr:nth-child(-n+2) td { text-align: left; }
.summary { color: #555; white-space: pre-line; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
table.code { width: 100%; table-layout: fixed; }
table.code td { width: 50%; padding: 0; }
table.code th.step { background: #e8eef7; font-size: 1.1rem; }
.highlight pre { margin: 0; padding: .5rem; font-size: .8rem; line-height: 1.35; white-space: pre-wrap;
                 overflow-wrap: anywhere; }
code { font-size: .9em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; } tr, figure { break-inside: avoid; }
  .highlight pre { font-size: 7pt; }
}
"""


def embedded_png(figure, description):
    data = base64.b64encode(png_bytes(figure)).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(description)}"></figure>'


def concept_map_table(lang):
    words = TEXT[lang]
    rows = "".join(
        f"<tr><td><code>{html.escape(concept['keras'])}</code></td><td>{html.escape(concept['hides'][lang])}</td>"
        f"<td>{'<br>'.join(f'<code>{html.escape(line)}</code>' for line in concept['raw'])}</td></tr>"
        for concept in CONCEPTS
    )
    return (
        f'<table class="concepts"><tr><th>{words["keras_call"]}</th><th>{words["hides"]}</th>'
        f"<th>{words['raw_lines']}</th></tr>{rows}</table>"
    )


def side_by_side_code(lang, model="cnn"):
    steps, titles = implementation_steps(model), step_titles(lang)
    lexer, formatter = PythonLexer(), HtmlFormatter(cssclass="highlight")
    rows = [f"<tr><th>{titles['keras']}</th><th>{titles['raw_tf']}</th></tr>"]
    for step in shown_sections(steps):
        cells = "".join(
            f'<td class="{name}">{highlight(chr(10).join(steps[name].get(step, [])), lexer, formatter)}</td>'
            for name in ("keras", "raw_tf")
        )
        rows.append(
            f'<tr><th class="step" colspan="2">{titles[step]}</th></tr><tr>{cells}</tr>'
        )
    return f'<table class="code">{"".join(rows)}</table>', formatter.get_style_defs(
        ".highlight"
    )


def render_html(report, lang="en"):
    """The whole page as a string."""
    words, results = TEXT[lang], report["results"]
    measured = tabulate(
        table_rows(results, lang), table_headers(results, lang), tablefmt="html"
    )
    measured = measured.replace("<table>", '<table class="measured">', 1)
    models = list(dict.fromkeys(result.get("model", "cnn") for result in results))
    code, code_style = side_by_side_code(
        lang, models[-1]
    )  # the last model's step 1: the fuller one
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{words["title"]}</title>
<style>{PAGE_STYLE}{code_style}</style>
</head>
<body>
<h1>{words["title"]}</h1>
<h2>{words["measured"]}</h2>
{measured}
<p class="summary">{html.escape(summary(report))}</p>
<h2>{words["curves"]}</h2>
{embedded_png(training_curves(results, lang), words["curves"])}
<h2>{words["loc_chart"]}</h2>
{embedded_png(lines_of_code_chart(results, lang), words["loc_chart"])}
<h2>{words["concept_map"]}</h2>
{concept_map_table(lang)}
<h2>{words["side_by_side"]}</h2>
{code}
</body>
</html>
"""
