"""The documents a newcomer reads: everything they cite is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    PROJECT_ROOT / "README.md",
    PROJECT_ROOT / "deploy" / "README.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
]
# Markdown links and images, and paths written as code: `docs/x.md`, `bench/uploads.py`.
LINK = re.compile(r"\]\((?!https?:|#|mailto:)(?P<target>[^)\s]+)\)")
CODE_PATH = re.compile(
    r"`(?P<target>[\w.-]+(?:/[\w.-]+)+\.(?:md|py|js|css|png|toml|yaml|conf|lock))`"
)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_file_a_document_cites_exists(document: Path) -> None:
    text = document.read_text()
    cited = {match["target"].partition("#")[0] for match in LINK.finditer(text)}
    cited |= {match["target"] for match in CODE_PATH.finditer(text)}
    missing = [
        target
        for target in sorted(cited)
        if not (document.parent / target).exists() and not (PROJECT_ROOT / target).exists()
    ]
    assert not missing, f"{document.relative_to(PROJECT_ROOT)} cites missing files: {missing}"


def test_the_readme_leads_with_pictures_then_the_two_commands() -> None:
    text = (PROJECT_ROOT / "README.md").read_text()
    pictures = text.index("docs/images/home.png"), text.index("docs/images/profile.png")
    assert max(pictures) < text.index("## The two commands") < text.index("## What next")
