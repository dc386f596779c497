"""Score the article page object on the saved pages of tests/pages/ (for tests and bench)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse

from coopspider.pages.article import ArticleFields, ArticlePage
from coopspider.text import clean_line, clean_paragraphs

PAGES = Path(__file__).parent / "pages"
FIELDS = ("title", "published_at", "author", "body", "images", "counter")


# The two sets of the corpus (see tests/pages/README.md): pages the extraction is tuned on, and
# pages it is only scored on, never changed to fix.
TUNED = "tuned"
SCORE_ONLY = "score-only"
SETS = (TUNED, SCORE_ONLY)


@dataclass
class Case:
    """A saved page and the fields a careful reader wrote down for it."""

    name: str
    url: str
    body: bytes
    expected: dict[str, Any]

    @property
    def set(self) -> str:
        """TUNED, or SCORE_ONLY when the expected JSON says `"set": "score-only"`."""
        return SCORE_ONLY if self.expected.get("set") == SCORE_ONLY else TUNED

    @property
    def real(self) -> bool:
        """Whether the page is real HTML saved from the site (`real-*`), not one written here."""
        return self.name.startswith("real-")


def cases() -> Iterator[Case]:
    """Every `NAME.html` with its `NAME.json` under tests/pages/."""
    for page in sorted(PAGES.glob("*.html")):
        if not page.with_suffix(".json").exists():
            continue
        expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        yield Case(page.stem, expected["url"], page.read_bytes(), expected)


def extract(case: Case) -> ArticleFields:
    """Our fields for one case, decoded the way the spider decodes responses."""
    response = HtmlResponse(url=case.url, body=case.body)
    return ArticlePage(response.url, response.text).to_item()


def _same_text(got: Any, want: Any) -> bool:
    return clean_line(got or "") == clean_line(want or "")


def _same_body(got: Any, want: Any) -> bool:
    got_words = clean_paragraphs(got or "").split()
    want_words = clean_paragraphs(want or "").split()
    if got_words == want_words:
        return True
    # A stray word in a long text (a symbol, a glued label) is no wrong body; a lost paragraph is.
    return SequenceMatcher(None, got_words, want_words, autojunk=False).ratio() >= 0.97


def _same_images(got: Any, want: Any) -> bool:
    def key(images: Any) -> list[tuple[str, str]]:
        return [(image["url"], clean_line(image.get("caption") or "")) for image in images or []]

    return key(got) == key(want)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "title": _same_text,
    "published_at": lambda got, want: got == want,
    "author": _same_text,
    "body": _same_body,
    "images": _same_images,
    "counter": lambda got, want: got == want,
}


def score(case: Case, got: Mapping[str, Any]) -> dict[str, bool]:
    """Field name -> whether our value matches the expected one."""
    return {field: COMPARE[field](got.get(field), case.expected.get(field)) for field in FIELDS}
