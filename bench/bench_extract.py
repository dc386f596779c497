"""Compare our article extraction with trafilatura's on the saved page corpus (tests/pages/).

Run: .venv/bin/python bench/bench_extract.py [--rounds N]      (needs: pip install -e '.[bench]')
Both read the same decoded HTML of every page, in the same run. Prints one table for each part of
the corpus (see tests/pages/README.md): the pages the extraction is tuned on and those it is only
scored on, each split into our own pages (written for this project) and real pages (saved from the
web, `real-*`, named in the heading); per field, how many pages each extractor got right (scored as
tests/extraction_score.py scores them); then the time per page over the whole corpus and the ratio.
Trafilatura gives a date without its time and no visitor counter: the date is compared by day for
both, and the fields only we produce are reported for us alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from lxml import etree  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from coopspider.pages.article import ArticleFields, ArticlePage  # noqa: E402
from coopspider.text import clean_paragraphs  # noqa: E402
from tests.extraction_score import COMPARE, SCORE_ONLY, SETS, TUNED, Case, cases  # noqa: E402

try:
    import trafilatura
except ImportError:  # the bench extra is optional
    sys.exit("trafilatura is not installed: pip install -e '.[bench]'")

Extractor = Callable[[str, str], Mapping[str, Any]]
SHARED = ("title", "date", "author", "body", "image_urls")  # fields both extractors give
OURS_ONLY = ("published_at", "images", "counter")


def ours(url: str, html: str) -> ArticleFields:
    return ArticlePage(url, html).to_item()


def theirs(url: str, html: str) -> dict[str, Any]:
    """Trafilatura's fields in our shape, from one call (XML output carries text and metadata)."""
    xml = trafilatura.extract(
        html,
        url=url,
        output_format="xml",
        with_metadata=True,
        include_images=True,
        include_comments=False,
        deduplicate=False,
    )
    if not xml:
        return {}
    doc = etree.fromstring(xml.encode("utf-8"))
    main = doc.find("main")
    paragraphs = []
    images = []
    for element in main.iter() if main is not None else []:
        if element.tag == "graphic" and element.get("src"):
            images.append({"url": urljoin(url, element.get("src")), "caption": None})
        elif element.tag in ("p", "head", "item", "quote", "cell"):
            text = "".join(element.itertext()).strip()
            if text and not any(child.tag in ("p", "item") for child in element):
                paragraphs.append(text)
    return {
        "title": doc.get("title"),
        "published_at": doc.get("date"),
        "author": doc.get("author"),
        "body": "\n\n".join(paragraphs),
        "images": images,
    }


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _image_urls(images: Any) -> list[str]:
    return [image["url"] for image in images or []]


def score(case: Case, got: Mapping[str, Any], ours_only: bool) -> dict[str, bool]:
    """Field -> right; with `ours_only`, also the fields trafilatura does not give."""
    want = case.expected
    result = {
        "title": COMPARE["title"](got.get("title"), want.get("title")),
        "date": _day(got.get("published_at")) == _day(want.get("published_at")),
        "author": COMPARE["author"](got.get("author"), want.get("author")),
        "body": COMPARE["body"](got.get("body"), want.get("body")),
        "image_urls": _image_urls(got.get("images")) == _image_urls(want.get("images")),
    }
    for field in OURS_ONLY if ours_only else ():
        result[field] = COMPARE[field](got.get(field), want.get(field))
    return result


def body_similarity(case: Case, got: Mapping[str, Any]) -> float:
    """Word-level similarity of the body with the expected one (1.0 = the same words)."""
    got_words = clean_paragraphs(got.get("body") or "").split()
    want_words = clean_paragraphs(case.expected.get("body") or "").split()
    return SequenceMatcher(None, got_words, want_words, autojunk=False).ratio()


def run(extract: Extractor, pages: list[tuple[Case, str]], rounds: int) -> dict[str, Any]:
    """Per page, which fields came out right and the body similarity; the best time per page
    over `rounds` passes of the whole corpus."""
    results = [(case, extract(case.url, html)) for case, html in pages]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for case, html in pages:
            extract(case.url, html)
        best = min(best, (time.perf_counter() - start) / len(pages))
    return {
        "fields": {case.name: score(case, got, ours_only=extract is ours) for case, got in results},
        "similarity": {case.name: body_similarity(case, got) for case, got in results},
        "per_page": best,
    }


# How each part of the corpus came to be, as its table's heading says it.
SET_WORDS = {TUNED: "tuned on", SCORE_ONLY: "score-only, never tuned to"}
ORIGIN_WORDS = {
    False: "our own pages (written for this project)",
    True: "real pages (saved from the web)",
}


def report(
    name: str, real: bool, cases: list[Case], mine: dict[str, Any], other: dict[str, Any]
) -> None:
    """One part's table: per field, pages right for us and for trafilatura."""
    total = len(cases)
    names = f": {', '.join(case.name for case in cases)}" if real and cases else ""
    print(f"\n{SET_WORDS[name]} - {ORIGIN_WORDS[real]}: {total} pages{names}")
    if not total:
        return

    def right(result: dict[str, Any], field: str) -> int:
        return sum(result["fields"][case.name][field] for case in cases)

    print(f"{'field':<22}{'coopspider':>14}{'trafilatura':>14}")
    for field in SHARED:
        label = "date (day)" if field == "date" else field
        print(
            f"{label:<22}{_share(right(mine, field), total):>14}"
            f"{_share(right(other, field), total):>14}"
        )
    for field in OURS_ONLY:
        label = {"published_at": "date and time", "images": "images + captions"}.get(field, field)
        print(f"{label:<22}{_share(right(mine, field), total):>14}{'n/a':>14}")
    similarity = [
        statistics.mean(result["similarity"][case.name] for case in cases)
        for result in (mine, other)
    ]
    print(f"{'body word similarity':<22}{similarity[0]:>14.3f}{similarity[1]:>14.3f}")
    # What trafilatura could add as a body fallback: pages it gets right where we do not.
    rescued = [
        case.name
        for case in cases
        if not mine["fields"][case.name]["body"] and other["fields"][case.name]["body"]
    ]
    print(f"bodies trafilatura gets right where coopspider does not: {len(rescued)}")


def show_wrong(name: str, result: dict[str, Any]) -> None:
    wrong: dict[str, list[str]] = {}
    for page, fields in result["fields"].items():
        for field, ok in fields.items():
            if not ok:
                wrong.setdefault(field, []).append(page)
    for field, pages in sorted(wrong.items()):
        print(f"{name} wrong on {field}: {', '.join(pages)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--show-wrong", action="store_true", help="list the pages each got wrong")
    args = parser.parse_args()

    pages = []
    for case in cases():
        response = HtmlResponse(url=case.url, body=case.body)
        pages.append((case, response.text))
    families = len({case.name.split("-")[0] for case, _ in pages})
    print(f"corpus: {len(pages)} pages in {families} families (tests/pages/), {args.rounds} rounds")

    mine = run(ours, pages, args.rounds)
    other = run(theirs, pages, args.rounds)
    for name in SETS:
        for real in (False, True):
            part = [case for case, _ in pages if case.set == name and case.real == real]
            report(name, real, part, mine, other)
    print(
        f"\n{'time per page':<22}{mine['per_page'] * 1000:>11.2f} ms"
        f"{other['per_page'] * 1000:>11.2f} ms   (whole corpus)"
    )
    ratio = other["per_page"] / mine["per_page"]
    print(f"speed ratio (trafilatura / coopspider): {ratio:.2f}x")
    if args.show_wrong:
        for name, result in (("coopspider", mine), ("trafilatura", other)):
            show_wrong(name, result)


def _share(right: int, total: int) -> str:
    return f"{right}/{total} {right / total:4.0%}"


if __name__ == "__main__":
    main()
