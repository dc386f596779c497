"""Compare our article extraction with trafilatura's on the saved page corpus (tests/pages/).

Run: .venv/bin/python bench/bench_extract.py [--rounds N]      (needs: pip install -e '.[bench]')
Both read the same decoded HTML of every page, in the same run. Prints, per field, how many pages
each got right (scored as tests/extraction_score.py scores them), the time per page, and ratios.
Trafilatura gives a date without its time and no visitor counter: the date is compared by day for
both, and the fields only we produce are reported for us alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from lxml import etree  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from coopspider.pages.article import ArticlePage  # noqa: E402
from coopspider.text import clean_paragraphs  # noqa: E402
from tests.extraction_score import COMPARE, Case, cases  # noqa: E402

try:
    import trafilatura
except ImportError:  # the bench extra is optional
    sys.exit("trafilatura is not installed: pip install -e '.[bench]'")

Extractor = Callable[[str, str], dict[str, Any]]
SHARED = ("title", "date", "author", "body", "image_urls")  # fields both extractors give
OURS_ONLY = ("published_at", "images", "counter")


def ours(url: str, html: str) -> dict[str, Any]:
    return ArticlePage(url, html).fields()


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


def score(case: Case, got: dict[str, Any], ours_only: bool) -> dict[str, bool]:
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


def body_similarity(case: Case, got: dict[str, Any]) -> float:
    """Word-level similarity of the body with the expected one (1.0 = the same words)."""
    got_words = clean_paragraphs(got.get("body") or "").split()
    want_words = clean_paragraphs(case.expected.get("body") or "").split()
    return SequenceMatcher(None, got_words, want_words, autojunk=False).ratio()


def run(extract: Extractor, pages: list[tuple[Case, str]], rounds: int) -> dict[str, Any]:
    """Fields right per field, mean body similarity, and the best time per page over rounds."""
    results = [(case, extract(case.url, html)) for case, html in pages]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for case, html in pages:
            extract(case.url, html)
        best = min(best, (time.perf_counter() - start) / len(pages))
    right: dict[str, int] = {}
    wrong: dict[str, list[str]] = {}
    for case, got in results:
        for field, ok in score(case, got, ours_only=extract is ours).items():
            right[field] = right.get(field, 0) + ok
            if not ok:
                wrong.setdefault(field, []).append(case.name)
    similarity = statistics.mean(body_similarity(case, got) for case, got in results)
    return {"right": right, "wrong": wrong, "similarity": similarity, "per_page": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--show-wrong", action="store_true", help="list the pages each got wrong")
    args = parser.parse_args()

    pages = []
    for case in cases():
        response = HtmlResponse(url=case.url, body=case.body)
        pages.append((case, response.text))
    total = len(pages)
    families = len({case.name.split("-")[0] for case, _ in pages})
    print(f"corpus: {total} pages in {families} families (tests/pages/), {args.rounds} rounds")

    mine = run(ours, pages, args.rounds)
    other = run(theirs, pages, args.rounds)

    print(f"{'field':<22}{'coopspider':>14}{'trafilatura':>14}")
    for field in SHARED:
        label = "date (day)" if field == "date" else field
        print(
            f"{label:<22}{_share(mine['right'][field], total):>14}"
            f"{_share(other['right'][field], total):>14}"
        )
    for field in OURS_ONLY:
        label = {"published_at": "date and time", "images": "images + captions"}.get(field, field)
        print(f"{label:<22}{_share(mine['right'][field], total):>14}{'n/a':>14}")
    print(f"{'body word similarity':<22}{mine['similarity']:>14.3f}{other['similarity']:>14.3f}")
    print(
        f"{'time per page':<22}{mine['per_page'] * 1000:>11.2f} ms"
        f"{other['per_page'] * 1000:>11.2f} ms"
    )
    ratio = other["per_page"] / mine["per_page"]
    print(f"speed ratio (trafilatura / coopspider): {ratio:.2f}x")
    for field in SHARED:
        ours_right, theirs_right = mine["right"][field], other["right"][field]
        print(f"  {field}: coopspider right on {ours_right - theirs_right:+d} pages vs trafilatura")
    # What trafilatura could add as a body fallback: pages it gets right where we do not.
    rescued = set(mine["wrong"].get("body", [])) - set(other["wrong"].get("body", []))
    print(f"bodies trafilatura gets right where coopspider does not: {len(rescued)}")
    if args.show_wrong:
        for name, result in (("coopspider", mine), ("trafilatura", other)):
            for field, wrong in sorted(result["wrong"].items()):
                print(f"{name} wrong on {field}: {', '.join(wrong)}")


def _share(right: int, total: int) -> str:
    return f"{right}/{total} {right / total:4.0%}"


if __name__ == "__main__":
    main()
