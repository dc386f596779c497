"""Bad input served by a real server on 127.0.0.1 to the real spider, in one crawl.

Legacy encodings with a wrong label, NFD pages, malformed and deeply nested HTML, enormous pages,
files behind `.html` URLs, pagination traps, absurd dates, missing fields. Each must give a clear
log line and a stat, never a crash of the crawl and never a broken row.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest

from coopspider.profiles import classify
from coopspider.sample_site import build_site
from coopspider.urls import LinkKind
from storage import open_database
from storage.models import Article, CrawlRun
from tests.archive_checks import assert_consistent
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, body, inject, rewrite
from tests.helpers import to_windows_1258

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

WARNSIZE, MAXSIZE = 100_000, 400_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + b"\x00" * 512


def as_windows_1258(page: bytes) -> bytes:
    """The page re-encoded in windows-1258 (decomposed tone marks); its labels still say UTF-8."""
    return to_windows_1258(page.decode("utf-8"))


def as_nfd(page: bytes) -> bytes:
    return unicodedata.normalize("NFD", page.decode("utf-8")).encode("utf-8")


def malformed(page: bytes) -> bytes:
    """End tags dropped, stray ones added, attributes unquoted: what old CMS templates serve."""
    page = re.sub(rb"</(p|div|span|li|td|tr)>", b"", page)
    return page.replace(b"<body", b"</div></table><b><i><font size=3 color=red><body", 1)


def nested(depth: int):
    def wrap(page: bytes) -> bytes:
        return re.sub(rb"(<body[^>]*>)", rb"\1" + b"<div>" * depth, page, count=1).replace(
            b"</body>", b"</div>" * depth + b"</body>", 1
        )

    return wrap


def padded(size: int):
    def pad(page: bytes) -> bytes:
        return page.replace(b"</body>", b"<!--" + b"x" * size + b"--></body>", 1)

    return pad


def test_bad_input_is_logged_counted_and_never_breaks_the_crawl_or_the_archive(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    (legacy, decomposed, broken, deep, deeper, large, huge, image, pdf, old, future, empty) = (
        site.articles[:12]
    )
    old.date = dt.date(1900, 1, 1)
    future.date = dt.date(2090, 7, 13)
    empty.paragraphs = []
    category = site.categories[0]
    faults = [
        (legacy, rewrite(as_windows_1258, "text/html; charset=utf-8")),
        (decomposed, rewrite(as_nfd)),
        (broken, rewrite(malformed)),
        (deep, rewrite(nested(1500))),
        # Past 2048 levels libxml2 stops building the tree, whatever its options.
        (deeper, rewrite(nested(5000))),
        (large, rewrite(padded(WARNSIZE + 50_000))),
        (huge, rewrite(padded(MAXSIZE * 3))),
        (image, body(PNG, "image/png")),
        (pdf, body(PDF, "text/html")),
    ]
    with FaultServer(site) as server:
        for article, fault in faults:
            for path in article.paths:
                server.faults[path] = fault
        # A pager that links to page 99999, and back to itself and its next page (a cycle), also
        # with ever-new query strings.
        server.faults[category.path] = inject(
            f'<a href="/{category.slug}/page-99999.htm">Trang cuối</a>'
            f'<a href="{category.path}">1</a><a href="{category.page_path(2)}">2</a>'
            f'<a href="{category.page_path(2)}?sid={{port}}">2</a>'
        )
        server.faults[category.page_path(2)] = inject(
            f'<a href="{category.path}">1</a><a href="{category.path}?sid=a{{port}}">1</a>'
        )
        result = scrapy_crawl(
            server.base_url,
            database_url,
            tmp_path / "items.jsonl",
            *("-s", f"DOWNLOAD_WARNSIZE={WARNSIZE}", "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}"),
        )
        listing_hits = [
            hit.path for hit in server.hits() if classify(hit.path).kind is LinkKind.LISTING
        ]

    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    assert_consistent(database_url)

    database = open_database(database_url)
    with database.session() as session:
        run = session.query(CrawlRun).one()
        stored = {a.article_id: a.versions[-1] for a in session.query(Article)}
    database.close()
    assert run.status == "finished"
    stats = run.stats

    # Read right: a legacy encoding labelled UTF-8, NFD text, broken and deeply nested markup,
    # a page above the warning size (stored, and counted).
    for article in (legacy, decomposed, broken, deep, large):
        version = stored[article.article_id]
        assert version.title == article.title, article.article_id
        assert version.body.startswith(article.paragraphs[0][:40]), article.article_id
        assert unicodedata.is_normalized("NFC", version.title + version.body)
    assert stats["coopspider/pages/over_warnsize"] >= 1

    # Never stored: a page over the size limit, files behind page URLs, a page without a body
    # (or with its body nested too deep to be read).
    for article in (huge, image, pdf, empty, deeper):
        assert article.article_id not in stored
    assert stats["coopspider/fetch_failed/too_large"] == 1
    assert "Not fetched (too_large): " in result.log and huge.article_id in result.log
    assert stats["coopspider/pages/not_html"] == 2
    assert result.log.count("Page not parsed (not an HTML page)") == 2
    assert image.article_id in result.log and pdf.article_id in result.log
    assert stats["coopspider/pages/unparsed"] == 4
    assert result.log.count(f"No body found on {server.base_url}") == 2

    # Absurd dates: the article is kept, its date only as printed.
    for article, raw in ((old, "Ngày: 01/01/1900"), (future, "Ngày: 13/07/2090")):
        version = stored[article.article_id]
        assert version.published_at is None
        assert version.published_raw.startswith(raw)
    assert stats["coopspider/date_implausible"] == 2
    assert result.log.count("Implausible publication date") == 2

    # Pagination trap: page 99999 never requested, each listing page fetched once.
    assert category.path in listing_hits
    assert not any("99999" in path or "?" in path for path in listing_hits)
    assert len(listing_hits) == len(set(listing_hits))
    assert stats["coopspider/listing/beyond_max_page"] == 1
    assert "Listing page beyond COOPSPIDER_MAX_LISTING_PAGE, not followed" in result.log

    # Everything else was archived.
    readable = len(site.articles) - 5
    assert len(stored) == readable == stats["coopspider/articles/new"]
