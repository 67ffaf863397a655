"""The report page as a lecturer uses it: projected at 1280x720, on an 800 px screen and
printed on A4, measured in a real headless Chromium (from its DOM and from its PDF), for
the synthetic report in both languages and for the page of one real run."""

import html
import json
import re
import unicodedata
from functools import cache
from html.parser import HTMLParser

import pypdf
import pytest
from helpers import (
    chromium,
    console_messages,
    needs_chromium,
    run_cli,
    succeeded,
    synthetic_report,
)

from compare.language import _ as translated
from compare.language import speaking
from compare.views.code_view import SETUP, implementation_steps, shown_sections
from compare.views.concepts import concept_map_entries
from compare.views.html_report import HANGING_INDENT, render_html

A4 = (595.28, 841.89)  # points
PROJECTOR, NARROW_SCREEN = (1280, 720), (800, 1000)
TIMING_NOTE = (
    "The timings leave out scoring the test set after each epoch (for the curves)"
)
STEP_ANCHORS = {SETUP: "imports"}  # the others: step-define, ..., step-extras

# Appended to a copy of the page: measures it once loaded (for --dump-dom) and again while
# it is printed (the print media query turns true inside --print-to-pdf), and writes what it
# found into the page, where the DOM dump or the PDF's text carries it out. While printing it
# writes numbers only, so that the text read back from the PDF, spaces removed, is the JSON.
MEASURE = r"""
<script>
(() => {
  const all = selector => [...document.querySelectorAll(selector)];
  const style = element => getComputedStyle(element);
  const size = element => parseFloat(style(element).fontSize);
  const root = document.documentElement;
  function charWidth(line) {
    const probe = document.createElement("span");
    probe.textContent = "0".repeat(10);
    probe.style.whiteSpace = "pre";
    line.parentElement.append(probe);
    const width = probe.getBoundingClientRect().width / 10;
    probe.remove();
    return width;
  }
  function rowStarts(line) {  // the left edge of each row a code line is laid out in
    const range = document.createRange();
    range.selectNodeContents(line);
    const rects = [...range.getClientRects()].filter(rect => rect.width > 0);
    if (!rects.length) return [];  // a blank line
    const height = parseFloat(style(line).lineHeight), top = rects[0].top, starts = [];
    for (const rect of rects) {
      const row = Math.round((rect.top - top) / height);
      starts[row] = Math.min(starts[row] ?? Infinity, rect.left);
    }
    return starts;
  }
  function background(element) {
    for (let e = element; e; e = e.parentElement) {
      const colour = style(e).backgroundColor;
      if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
    }
    return "rgb(255, 255, 255)";
  }
  function layout() {  // numbers only
    const code = all(".block pre, .block .line, code");
    const text = all("p, li, td, th").filter(e => !e.closest("pre"));
    const pairs = all("section.step").map(step => [
      step.querySelector(".block.keras").getBoundingClientRect(),
      step.querySelector(".block.raw_tf").getBoundingClientRect(),
    ]);
    const tables = all("table").map(table => table.getBoundingClientRect());
    return {
      print: matchMedia("print").matches ? 1 : 0,
      width: root.getBoundingClientRect().width,  // printed: the page box, A4 less margins
      clientWidth: root.clientWidth,
      scrollWidth: root.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      codeFont: Math.min(...code.map(size)),
      textFont: Math.min(...text.map(size)),
      steps: pairs.length,
      stacked: pairs.filter(([k, r]) => k.bottom <= r.top + 0.5 && Math.abs(k.left - r.left) < 1).length,
      sideBySide: pairs.filter(([k, r]) => k.right <= r.left + 0.5 && Math.abs(k.top - r.top) < 1).length,
      tables: tables.length,
      tableLeft: Math.min(...tables.map(r => r.left)),
      tableRight: Math.max(...tables.map(r => r.right)),
      rightmost: Math.max(...all("body *").map(e => e.getBoundingClientRect().right)),
      scrolledBoxes: all("body *").filter(e => style(e).overflowX !== "visible" && e.scrollWidth > e.clientWidth + 1).length,
    };
  }
  function details() {
    const lines = all(".block .line"), ch = charWidth(lines[0]);
    const wrapped = lines.map(line => [line, rowStarts(line)]).filter(([, starts]) => starts.length > 1);
    const colours = new Set();
    for (const element of all("body *")) {
      const hasText = [...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim());
      if (hasText) colours.add(style(element).color + "|" + background(element));
    }
    return {
      ch,
      wrapped: wrapped.map(([line, starts]) => ({
        leading: line.textContent.length - line.textContent.trimStart().length,
        offsets: starts.slice(1).map(start => (start - starts[0]) / ch),
      })),
      colours: [...colours],
    };
  }
  function report(text) {
    const out = document.createElement("pre");
    out.id = "findings";
    out.style.cssText = "white-space: pre-wrap; word-break: break-all; font: 6pt monospace";
    out.textContent = text;
    document.body.append(out);
  }
  addEventListener("load", () => report(JSON.stringify({...layout(), ...details()})));
  matchMedia("print").addEventListener("change", event => {
    if (event.matches) report("FINDINGS" + JSON.stringify(layout()) + "END");
  });
})();
</script>
"""


def with_measuring_script(page):
    return page.replace("</body>", MEASURE + "</body>")


def findings_in_dom(dom):
    found = re.search(r'<pre id="findings"[^>]*>(.*?)</pre>', dom, re.S)
    assert found, "the measuring script wrote nothing"
    return json.loads(html.unescape(found.group(1)))


def findings_in_pdf(path):
    """What the measuring script wrote at the end of the printed page."""
    pages, text = pypdf.PdfReader(path).pages, ""
    for page in reversed(pages):  # the findings close the document
        text = re.sub(r"\s+", "", page.extract_text()) + text
        found = re.search(r"FINDINGS(\{.*?\})END", text)
        if found:
            return json.loads(found.group(1))
    raise AssertionError("the measuring script wrote nothing while printing")


class Page:
    """A report page written into a folder, shown by Chromium as asked (each way once):
    measured on a screen of a given size, measured while printing, printed as it is."""

    def __init__(self, folder, text):
        self.folder, self.text, self.seen = folder, text, {}
        self.path = folder / "report.html"
        self.path.write_text(text, encoding="utf-8")
        self.measured = folder / "measured.html"
        self.measured.write_text(with_measuring_script(text), encoding="utf-8")

    def once(self, key, show):
        if key not in self.seen:
            self.seen[key] = show()
        return self.seen[key]

    def on_screen(self, size):
        def show():
            dom, stderr = chromium(
                "--dump-dom",
                f"--window-size={size[0]},{size[1]}",
                self.measured.as_uri(),
                tmp_path=self.folder,
            )
            assert console_messages(stderr) == []
            return findings_in_dom(dom)

        return self.once(size, show)

    def pdf(self, measured=False):
        """The page printed (by Chromium's own --print-to-pdf, no header or footer)."""
        source = self.measured if measured else self.path

        def show():
            pdf = source.with_suffix(".pdf")
            _, stderr = chromium(
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                source.as_uri(),
                tmp_path=self.folder,
            )
            assert pdf.exists(), stderr
            return pdf

        return self.once(("pdf", measured), show)

    def printed(self):
        """The page's PDF, read (Printed)."""
        return self.once("printed", lambda: Printed(self.pdf()))

    def measured_in_print(self):
        """What the measuring script found while the page was printed."""
        return findings_in_pdf(self.pdf(measured=True))


# What the page should be, as checks that the tests and the negative controls share -------
def contrast(foreground, background):
    """WCAG's contrast ratio of two CSS colours "rgb(r, g, b)"."""

    def luminance(colour):
        channels = [int(value) / 255 for value in re.findall(r"\d+", colour)[:3]]
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    darker, lighter = sorted([luminance(foreground), luminance(background)])
    return (lighter + 0.05) / (darker + 0.05)


def check_projection(found):
    """At 1280x720: large type, the columns side by side, wrapped code hanging under its
    line, every colour of text at least 7:1 against its background (WCAG AAA)."""
    assert found["codeFont"] >= 18, f"code at {found['codeFont']} px"
    assert found["textFont"] >= 18, f"body text at {found['textFont']} px"
    assert found["steps"] > 0 and found["sideBySide"] == found["steps"]
    assert found["wrapped"], (
        "no code line wraps at 1280 px: the indent check saw nothing"
    )
    # each row after a line's first starts HANGING_INDENT columns in from the line's text
    for line in found["wrapped"]:
        for offset in line["offsets"]:
            assert offset == pytest.approx(line["leading"] + HANGING_INDENT, abs=0.1), (
                line
            )
    weak = [pair for pair in found["colours"] if contrast(*pair.split("|")) < 7]
    assert not weak, weak


def check_narrow_screen(found):
    """At 800 px: no horizontal overflow, the code stacked, every table inside the screen
    and no box that scrolls sideways."""
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert found["steps"] > 0 and found["stacked"] == found["steps"]
    assert found["tables"] >= 2
    assert found["tableLeft"] >= 0 and found["tableRight"] <= found["clientWidth"], (
        found
    )
    assert found["scrolledBoxes"] == 0, found


def check_print_layout(found):
    """While printing: A4 less its margins as the page box, code >= 9 pt, nothing wider."""
    assert found["print"] == 1
    assert 650 < found["width"] < 720  # 186 mm is 703 CSS px
    assert found["codeFont"] * 0.75 >= 9, f"code at {found['codeFont'] * 0.75} pt"
    assert found["tables"] >= 2 and found["tableRight"] <= found["width"] + 0.5, found
    assert (
        found["rightmost"] <= found["width"] + 0.5
        and found["bodyScrollWidth"] <= found["width"] + 1
    )
    assert found["stacked"] == found["steps"] > 0


IMAGE = "\ufffc"  # the object replacement character: an image, in a page's pieces


def text_pieces(page):
    """[(x, y, text, font name, size in pt)] of a PDF page, y up from its bottom; an
    image is a piece too (its bottom-left corner, text IMAGE)."""
    pieces = []

    def visit_text(text, cm, tm, font, size):
        if text.strip():
            m = [  # the text matrix, then the page's: where the text is drawn
                tm[0] * cm[0] + tm[1] * cm[2],
                tm[0] * cm[1] + tm[1] * cm[3],
                tm[4] * cm[0] + tm[5] * cm[2] + cm[4],
                tm[4] * cm[1] + tm[5] * cm[3] + cm[5],
            ]
            name = str(font.get("/BaseFont", "")) if font else ""
            pieces.append(
                (m[2], m[3], text, name, size * (m[0] ** 2 + m[1] ** 2) ** 0.5)
            )

    def visit_operator(operator, operands, cm, tm):
        if operator == b"Do":  # an image (or a form) drawn in the unit square cm maps
            pieces.append((cm[4], min(cm[5], cm[5] + cm[3]), IMAGE, "", 0))

    page.extract_text(visitor_text=visit_text, visitor_operand_before=visit_operator)
    return pieces


def plain(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def bottom_lines(pages):
    """The last line of each page (its pieces), as plain() text."""
    lines = []
    for pieces in pages:
        lowest = min(y for _, y, *_ in pieces)
        lines.append(
            plain("".join(t for x, y, t, *_ in sorted(pieces) if y - lowest < 1))
        )
    return lines


class Headings(HTMLParser):
    """The text of every heading (h1-h4) and table header cell of a page."""

    def __init__(self, page):
        super().__init__()
        self.open, self.found = 0, set()
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3", "h4", "th"):
            self.open, self.text = self.open + 1, ""

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4", "th") and self.open:
            self.open -= 1
            self.found.add(plain(self.text))

    def handle_data(self, data):
        if self.open:
            self.text += data


class Printed:
    """A PDF: each page's size in points and its pieces (text_pieces), read once."""

    def __init__(self, path):
        reader = pypdf.PdfReader(path)
        self.sizes = [
            (float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages
        ]
        self.pages = [text_pieces(page) for page in reader.pages]


def stranded_headings(printed, page_text):
    """The pages (from 1) whose last line is a heading or a table's header row."""
    headings = Headings(page_text).found
    return [
        number
        for number, line in enumerate(bottom_lines(printed.pages), start=1)
        if line in headings
    ]


def code_sizes(printed):
    """The size in pt of every piece of text set in a monospaced font."""
    return [
        size
        for pieces in printed.pages
        for *_, name, size in pieces
        if "Mono" in name or "Courier" in name
    ]


def check_pdf(printed, page_text, pages=(3, 20)):
    """Every page A4, a sane page count, code >= 9 pt, no heading alone at a page bottom."""
    sizes = printed.sizes
    assert all(abs(w - A4[0]) <= 1 and abs(h - A4[1]) <= 1 for w, h in sizes), (
        f"pages of {sorted(set(sizes))} pt, not A4"
    )
    assert pages[0] <= len(sizes) <= pages[1], f"{len(sizes)} pages"
    code = code_sizes(printed)
    assert code and min(code) >= 9 - 0.05, (
        f"code printed at {min(code, default=None)} pt"
    )
    assert stranded_headings(printed, page_text) == []


def anchors(page):
    """(ids on the page, #targets the table of contents links to)."""
    ids = re.findall(r'\bid="([^"]+)"', page)
    contents = re.search(r'<nav class="toc".*?</nav>', page, re.S).group(0)
    return ids, re.findall(r'href="#([^"]+)"', contents)


LANGUAGES = ("en", "pt")


@cache
def synthetic_page_text(lang):
    return render_html(synthetic_report(), lang)


# Fast: the page's structure --------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_says_its_language_and_that_timings_leave_out_the_curves(lang):
    page = synthetic_page_text(lang)
    assert f'<html lang="{"pt-BR" if lang == "pt" else "en"}">' in page
    with speaking(lang):
        note = translated(TIMING_NOTE)
    if lang == "pt":
        assert note != TIMING_NOTE  # the catalog has it
    # right under the measured table, once
    table_end, curves = page.index("</table>"), page.index('<section id="curves">')
    assert table_end < page.index(html.escape(note)) < curves
    assert page.count(html.escape(note)) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_contents_link_every_section_and_every_step(lang):
    page = synthetic_page_text(lang)
    ids, links = anchors(page)
    assert len(ids) == len(set(ids)) and set(links) <= set(ids)
    sections = re.findall(r'<section id="([^"]+)"', page)
    steps = re.findall(r'<section class="step" id="([^"]+)"', page)
    shown = shown_sections(implementation_steps(), imports=True)
    assert steps == [STEP_ANCHORS.get(step, f"step-{step}") for step in shown]
    assert sections == ["measured", "curves", "lines-of-code", "concept-map", "code"]
    assert links == [*sections, *steps]  # the steps nested under the code


def test_each_code_line_is_its_own_block_with_a_hanging_indent():
    """Every line of both files' shown sections, in order, each with the indent its
    wrapped rows go on at: its own leading spaces and HANGING_INDENT more."""
    page = synthetic_page_text("en")
    steps = implementation_steps()
    for step in shown_sections(steps, imports=True):
        section = re.search(
            rf'<section class="step" id="{STEP_ANCHORS.get(step, f"step-{step}")}">(.*?)</section>',
            page,
            re.S,
        ).group(1)
        for name in ("keras", "raw_tf"):
            block = section.split(f'<div class="block {name}">', 1)[1].split(
                '<div class="block', 1
            )[0]
            spans = re.findall(
                r'<span class="line" style="--hang: (\d+)ch">(.*?)</span>\n?(?=<span class="line"|</pre>)',
                block,
                re.S,
            )
            texts = [
                html.unescape(re.sub(r"<[^>]+>", "", text)).rstrip("\n")
                for _, text in spans
            ]
            assert texts == steps[name].get(step, []), (step, name)
            for (hang, _), text in zip(spans, texts, strict=True):
                assert int(hang) == len(text) - len(text.lstrip(" ")) + HANGING_INDENT


def test_concept_map_cites_each_quoted_line_at_its_file_and_line():
    page = synthetic_page_text("en")
    for row in concept_map_entries("en"):
        for where in (row.keras_at, *(at for _, at in row.raw)):
            assert f'<span class="where">{where}</span>' in page


def test_contrast_ratio_is_wcags():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)") == pytest.approx(
        4.48, abs=0.01
    )


# In Chromium: the synthetic report's page, in both languages -----------------------------
@pytest.fixture(scope="module", params=LANGUAGES)
def synthetic_page(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"page-{request.param}")
    return Page(folder, synthetic_page_text(request.param))


@pytest.mark.slow
@needs_chromium
def test_projected_at_1280x720_the_type_is_large_and_wrapped_code_hangs(synthetic_page):
    check_projection(synthetic_page.on_screen(PROJECTOR))


@pytest.mark.slow
@needs_chromium
def test_at_800px_the_code_stacks_and_nothing_overflows(synthetic_page):
    check_narrow_screen(synthetic_page.on_screen(NARROW_SCREEN))


@pytest.mark.slow
@needs_chromium
def test_printed_on_a4_with_nothing_clipped_or_stranded(synthetic_page):
    check_print_layout(synthetic_page.measured_in_print())
    check_pdf(synthetic_page.printed(), synthetic_page.text)


# Negative controls: pages known to be wrong are caught -----------------------------------
@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize(
    "breakage",
    [
        "table.concepts { min-width: 1100px; }",  # a table wider than the screen
        ".block pre { white-space: pre; }",  # code that no longer wraps
    ],
)
def test_overflow_checks_catch_a_page_too_wide_for_800px(breakage, tmp_path):
    text = synthetic_page_text("en").replace(
        "</head>", f"<style>{breakage}</style></head>"
    )
    found = Page(tmp_path, text).on_screen(NARROW_SCREEN)
    with pytest.raises(AssertionError):
        check_narrow_screen(found)


@pytest.mark.slow
@needs_chromium
def test_pdf_checks_catch_letter_paper_small_code_and_a_stranded_heading(tmp_path):
    """No @page (so Chromium's Letter), 7 pt code, and a heading pushed to the foot of page 1
    by a block that must not break, with nothing to keep the heading with it."""
    text = (
        "<!DOCTYPE html><html><body>"
        "<div style='height: 880px'>Top of the page.</div>"
        "<h3>Step 9: stranded</h3>"
        "<div style='height: 300px; break-inside: avoid'>The step's code."
        "<pre style='font: 7pt \"DejaVu Sans Mono\", monospace'>x = 1</pre></div>"
        "</body></html>"
    )
    printed = Page(tmp_path, text).printed()
    assert stranded_headings(printed, text) == [1]
    assert min(code_sizes(printed)) == pytest.approx(7, abs=0.1)
    with pytest.raises(AssertionError, match="not A4"):
        check_pdf(printed, text, pages=(1, 20))


# One real run: the page it writes passes every check -------------------------------------
@pytest.mark.slow
@needs_chromium
def test_real_report_projects_prints_and_opens_without_console_errors(tmp_path):
    """A real run writes the report and the curves; Chromium loads the page with no console
    message, and it passes the projection, narrow-screen and A4 checks."""
    report_path, plot_path = tmp_path / "report.html", tmp_path / "curves.png"
    completed = succeeded(
        run_cli(
            *"--dataset digits --train-samples 256 --test-samples 64 --epochs 2".split(),
            *"--batch-size 64 --quiet --format json".split(),
            "--report",
            report_path,
            "--plot",
            plot_path,
            timeout=600,
        )
    )
    history = json.loads(completed.stdout)["results"][0]["history"]
    assert len(history["val_accuracy"]) == 2  # curves have a test line per epoch
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    screenshot = tmp_path / "report.png"
    _, stderr = chromium(
        f"--screenshot={screenshot}",
        "--window-size=1280,720",
        report_path.as_uri(),
        tmp_path=tmp_path,
    )
    assert screenshot.stat().st_size > 10_000, stderr
    assert console_messages(stderr) == []
    text = report_path.read_text(encoding="utf-8")
    assert 'class="measured"' in text and "Test accuracy" in text
    folder = tmp_path / "chromium"
    folder.mkdir()
    page = Page(folder, text)
    check_projection(page.on_screen(PROJECTOR))
    check_narrow_screen(page.on_screen(NARROW_SCREEN))
    check_print_layout(page.measured_in_print())
    check_pdf(page.printed(), text)
