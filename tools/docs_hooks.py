"""MkDocs hooks (mkdocs.yml `hooks:`): the pages that live outside docs/ join the site,
links between files become links between pages, and the CLI reference is written from
the parsers at build time, so it cannot drift from them.

- The teachers' pages and BENCHMARKS.md stay where GitHub visitors and
  notebooks/build.py expect them (the repository's root); the site takes a copy at
  build time, links rewritten: README.md is the site's home, TEACHING.md `teaching.md`,
  README.pt.md the Portuguese home `pt/index.md`; the notebooks become pages
  (mkdocs-jupyter) at their own paths.
- A link to a repository file that is not a page (`keras_impl/cnn.py`) keeps its text,
  in code where it was, and loses its target: the project has no public address yet
  (notebooks/build.py's REPOSITORY); with `repo_url` set in mkdocs.yml it points there.
- docs/cli.md holds a marker where each command's `--help` is written.
"""

import argparse
import os
import posixpath
import re
from pathlib import Path

import mkdocs.plugins
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]

# Repository path -> site page, for the files that join the site from outside docs/.
COPIED = {
    "README.md": "index.md",
    "TEACHING.md": "teaching.md",
    "README.pt.md": "pt/index.md",
    "BENCHMARKS.md": "benchmarks.md",
}
# The notebooks keep their paths (mkdocs-jupyter reads them from the repository's root).
NOTEBOOKS = [
    f"notebooks/{name}.{lang}.ipynb"
    for name in ("keras_vs_tf", "exercises")
    for lang in ("en", "pt")
]
SITE_PAGES = {**COPIED, **{path: path for path in NOTEBOOKS}}
ORIGIN = {page: path for path, page in SITE_PAGES.items()}  # site page -> repo path

CLI_MARKER = "<!-- cli: each command's --help is written here at build time -->"
HELP_COLUMNS = "88"  # a fixed width, so that the page is the same on every machine
LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


@mkdocs.plugins.event_priority(100)  # before mkdocs-jupyter wraps the notebooks
def on_files(files, config):
    for path, page in COPIED.items():
        files.append(
            File.generated(config, page, content=(ROOT / path).read_text("utf-8"))
        )
    for path in NOTEBOOKS:
        files.append(File(path, str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def origin_of(src_uri):
    """The repository path a site page comes from."""
    return ORIGIN.get(src_uri, f"docs/{src_uri}")


def site_target(repo_path):
    """The site page for a repository path, or None where it is not a page."""
    if repo_path in SITE_PAGES:
        return SITE_PAGES[repo_path]
    if repo_path.startswith("docs/") and (ROOT / repo_path).is_file():
        return repo_path.removeprefix("docs/")
    return None


def rewritten_link(match, page_dir, origin_dir, repo_url):
    image, text, target = match.groups()
    if re.match(r"^([a-z]+:|#)", target):
        return match[0]
    path, hash_, anchor = target.partition("#")
    repo_path = posixpath.normpath(posixpath.join(origin_dir, path))
    page = site_target(repo_path)
    if page is not None:
        relative = posixpath.relpath(page, page_dir or ".")
        return f"{image}[{text}]({relative}{hash_}{anchor})"
    if not (ROOT / repo_path).exists() or repo_path.startswith(".."):
        return match[0]  # broken: left for mkdocs' strict validation to report
    if repo_url:
        return f"{image}[{text}]({repo_url.rstrip('/')}/blob/main/{repo_path})"
    return text


def with_links_rewritten(markdown, src_uri, repo_url):
    page_dir = posixpath.dirname(src_uri)
    origin_dir = posixpath.dirname(origin_of(src_uri))
    lines, in_fence = [], False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line.lstrip()):
            in_fence = not in_fence
        elif not in_fence:
            line = LINK.sub(
                lambda m: rewritten_link(m, page_dir, origin_dir, repo_url), line
            )
        lines.append(line)
    return "".join(lines)


def commands_of(parser, prefix):
    """(command line, parser) for `parser` and each of its subcommands, depth first."""
    yield prefix, parser
    for action in parser._actions:  # argparse lists subcommands nowhere else
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from commands_of(subparser, f"{prefix} {name}")


def cli_reference():
    """Each command's `--help`, as Markdown sections."""
    from compare.cli import build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        sections = [
            f"## `{command}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"
            for command, parser in commands_of(build_parser(), "python -m compare")
        ]
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return "\n".join(sections)


def on_page_markdown(markdown, page, config, files):
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return with_links_rewritten(markdown, page.file.src_uri, config.get("repo_url"))


def is_portuguese(src_uri):
    return src_uri.startswith("pt/") or src_uri.endswith(".pt.ipynb")


def on_post_page(output, page, config):
    """The Portuguese pages say so (screen readers, hyphenation, the browser's
    translation offer): one site, one theme language, each page its own `lang`."""
    if is_portuguese(page.file.src_uri):
        return output.replace('<html lang="en"', '<html lang="pt-BR"', 1)
    return output
