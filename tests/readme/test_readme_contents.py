"""The README's table of contents, in-page links and architecture stay true to the README and
to the source tree."""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PROVIDERS = REPOSITORY / "src" / "integration_api" / "providers"
_HEADING = re.compile(r"^(#{2,3}) (.+)$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _text() -> str:
    # Code blocks may hold lines that look like headings (shell comments).
    return _FENCE.sub("", (REPOSITORY / "README.md").read_text())


def anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_in_page_link_names_a_heading() -> None:
    text = _text()
    anchors = {anchor(title) for _level, title in _HEADING.findall(text)}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links, "no in-page links found"
    assert links <= anchors, sorted(links - anchors)


def test_the_contents_list_every_section_in_order() -> None:
    text = _text()
    headings = [
        (len(level), title) for level, title in _HEADING.findall(text) if title != "Contents"
    ]
    listed = re.findall(r"^( *)- \[(.+)\]\(#(.+)\)$", _section(text, "Contents"), re.MULTILINE)
    assert [(2 + len(indent) // 2, title) for indent, title, _ in listed] == headings
    assert all(target == anchor(title) for _, title, target in listed)


def test_the_architecture_names_every_provider_folder() -> None:
    folders = {path.name for path in PROVIDERS.iterdir() if (path / "__init__.py").exists()}
    architecture = _section(_text(), "Architecture")
    named = set(re.findall(r"`(\w+)/`", architecture))
    assert folders <= named, sorted(folders - named)
