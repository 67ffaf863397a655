"""The manual as a site (mkdocs.yml, docs/, tools/docs_hooks.py): the README stays a first
screen, every relative link of the pages kept at the root resolves, the recorded outputs
are well formed, the CLI reference is the parsers'; slow: `mkdocs build --strict` passes
and headless Chromium opens the built pages with no console message."""

import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading

import pytest
from helpers import ROOT, chromium, console_messages, needs_chromium

from tools import record_outputs

docs_hooks = pytest.importorskip(
    "tools.docs_hooks", reason="the site's tools: pip install -e '.[docs]'"
)

ROOT_PAGES = ["README.md", "TEACHING.md", "README.pt.md", "BENCHMARKS.md"]
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def links(text):
    """The link targets outside code fences."""
    found, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            found += LINK.findall(line)
    return found


def github_anchor(heading):
    """GitHub's anchor for a heading (and the site's: mkdocs.yml's slugify)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    text = path.read_text(encoding="utf-8")
    in_fence, found = False, set()
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            found.add(github_anchor(line.lstrip("#")))
    return found


def test_readme_is_a_first_screen_under_200_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 200


DOCS_PAGES = sorted(
    str(page.relative_to(ROOT)) for page in (ROOT / "docs").rglob("*.md")
)


@pytest.mark.parametrize("name", ROOT_PAGES + DOCS_PAGES)
def test_every_relative_link_resolves_to_a_file_and_its_anchor(name):
    page = ROOT / name
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path) if path else page
        known = resolved.exists() and (
            not anchor or resolved.suffix != ".md" or anchor in anchors(resolved)
        )
        if not known:
            broken.append(target)
    assert broken == []


def test_the_readme_links_every_page_of_the_manual():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {target.partition("#")[0] for target in links(readme)}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages <= linked


def test_every_recorded_output_is_well_formed_and_names_a_command():
    """The markers only: rerunning the commands takes minutes (`python -m
    tools.record_outputs` does it)."""
    found = [
        block
        for page in record_outputs.pages()
        for block in record_outputs.blocks(page)
    ]
    assert [
        p for page in record_outputs.pages() for p in record_outputs.problems(page)
    ] == []
    assert len(found) >= 4
    for block in found:
        module = block.command.split()[2]
        assert (ROOT / module.replace(".", "/")).with_suffix(".py").exists() or (
            ROOT / module.replace(".", "/") / "__main__.py"
        ).exists(), block.command


def test_a_broken_block_is_reported(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("<!-- output: python -m compare code -->\n```text\nno end\n```\n")
    monkeypatch.setattr(record_outputs, "ROOT", tmp_path)
    assert record_outputs.problems(page) == ["page.md: 1 markers, 0 well-formed blocks"]


def test_the_cli_reference_is_every_parsers_help_at_a_fixed_width():
    from compare.cli import COMMANDS

    reference = docs_hooks.cli_reference()
    assert reference == docs_hooks.cli_reference()  # deterministic
    assert "## `python -m compare`\n" in reference
    for command in COMMANDS:
        assert f"## `python -m compare {command.NAME}`\n" in reference
    widths = [len(line) for line in reference.splitlines() if not line.startswith("#")]
    assert max(widths) <= int(docs_hooks.HELP_COLUMNS)


def test_links_between_files_become_links_between_pages():
    rewrite = functools.partial(docs_hooks.with_links_rewritten, repo_url=None)
    readme = "[a](docs/speed.md#x) [b](TEACHING.md) [`c.py`](keras_impl/cnn.py) [d](https://e)"
    assert (
        rewrite(readme, "index.md")
        == "[a](speed.md#x) [b](teaching.md) `c.py` [d](https://e)"
    )
    page = "[a](../README.pt.md) [b](../notebooks/exercises.pt.ipynb) [c](nope.md)"
    assert rewrite(page, "speed.md") == (
        "[a](pt/index.md) [b](notebooks/exercises.pt.ipynb) [c](nope.md)"
    )
    assert rewrite("[a](README.md)", "pt/index.md") == "[a](../index.md)"
    assert rewrite("```\n[a](keras_impl/cnn.py)\n```\n", "index.md").count("](") == 1


# The built site, in a browser -----------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip(
        "mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')"
    )
    folder = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    return folder


@contextlib.contextmanager
def served(folder):
    """The site over HTTP on a free local port (search's web worker needs an origin)."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(folder)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_mkdocs_build_strict_writes_every_page(site):
    for page in [
        "index.html",
        "cli/index.html",
        "pt/index.html",
        "teaching/index.html",
    ]:
        assert (site / page).is_file(), page
    for notebook in docs_hooks.NOTEBOOKS:
        folder = site / notebook.removesuffix(".ipynb")
        assert (folder / "index.html").is_file()
        # the .ipynb a teacher uploads to Colab, linked from its page
        name = notebook.rsplit("/", 1)[-1]
        assert (folder / name).read_bytes() == (ROOT / notebook).read_bytes()
        assert f'<a href="{name}" download>' in (folder / "index.html").read_text()


PAGES = {  # page: (its language, the heading it shows, a text of its body)
    "": ("en", "keras-vs-tf", "Teachers start here"),
    "options/": ("en", "Options", "The comparison's main options"),
    "cli/": ("en", "CLI reference", "usage: python -m compare transfer"),
    "pt/": ("pt-BR", "Keras vs TensorFlow puro: guia para o professor", "O que a aula"),
    "notebooks/keras_vs_tf.pt/": ("pt-BR", "Keras vs TensorFlow puro", "Passo 1"),
}


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("page", PAGES)
def test_a_built_page_opens_in_chromium_with_no_console_message(site, page, tmp_path):
    lang, heading, body = PAGES[page]
    with served(site) as address:
        dom, stderr = chromium(
            "--dump-dom",
            "--virtual-time-budget=3000",
            "--window-size=1280,720",
            f"{address}/{page}",
            tmp_path=tmp_path,
        )
    assert console_messages(stderr) == []
    assert f'<html lang="{lang}"' in dom
    assert re.search(rf"<h1[^>]*>{re.escape(heading)}", dom), dom[:2000]
    assert body in dom


def test_an_excerpt_keeps_the_lines_it_names():
    lines = ["a", "b", "Largest difference: 0", "c", "d"]
    excerpt = record_outputs.excerpt
    assert excerpt(lines, None) == lines
    assert excerpt(lines, "last 2 lines") == ["...", "c", "d"]
    assert excerpt(lines, '2 lines from "Largest"') == [
        "...",
        "Largest difference: 0",
        "c",
    ]
