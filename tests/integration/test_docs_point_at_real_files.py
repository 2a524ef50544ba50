"""The README and docs/ are true about the tree: every relative link and every file path they
name in code spans exists, and nothing points outside the repository (a clone has only what
is in it). Paths moved with the code (plugin/loyalty/ was regrouped by feature), so this is
what keeps the manual from sending a newcomer to a file that is gone.

A path is found from the repository's root, from the document's folder, or as the end of a
path in the tree (a section about the theme extension names `blocks/launcher.liquid`).
Files the app writes at run time (under `instance/`) are not in the tree."""
import re
import subprocess

import pytest

from tests.helpers import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
# A path in a code span: folders and a file with an extension the repo uses.
EXTENSIONS = "py|md|html|js|css|toml|liquid|json|jsonl|png|ini"
CODE_PATH = re.compile(rf"`((?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]+\.(?:{EXTENSIONS}))`")
OUTSIDE = re.compile(r"\.\./(?:shared|\.library)|/work/")
GENERATED = ("instance/",)
TREE = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def exists(document, target: str) -> bool:
    return ((document.parent / target).exists() or (ROOT / target).exists() or target.startswith(GENERATED)
            or any(path.endswith("/" + target) for path in TREE))


def mentions(document):
    text = document.read_text()
    for pattern in (LINK, CODE_PATH):
        for match in pattern.finditer(text):
            target = match.group(1)
            if "://" in target or target.startswith(("mailto:", "shopify:")) or "<" in target or "*" in target:
                continue
            yield target


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_path_a_document_names_exists(document):
    missing = sorted({target for target in mentions(document) if not exists(document, target)})
    assert missing == [], f"{document.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_document_points_outside_the_repository(document):
    assert OUTSIDE.findall(document.read_text()) == []
