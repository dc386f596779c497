"""The extraction worker pool gives the same items as extraction inside the crawl's process."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import pytest

from coopspider.extraction import Extractor, extract_article

PAGES = Path(__file__).parent / "pages"
FIELDS = {
    "date_order": "DMY",
    "site": "thaibinh",
    "article_id": "1",
    "category": "tin-tuc",
    "fetched_at": "2025-03-01T02:00:00+00:00",
}


def saved_pages() -> list[tuple[str, str]]:
    return [
        (f"http://lienminhhtx.example/{path.stem}-1.html", path.read_text(encoding="utf-8"))
        for path in sorted(PAGES.glob("*.html"))[:6]
    ]


def test_worker_processes_extract_what_the_crawl_process_would() -> None:
    pages = saved_pages()
    extractor = Extractor(1)

    async def extract_all() -> list[dict]:
        items = await asyncio.gather(
            *(extractor.article(url, text, **FIELDS) for url, text in pages)
        )
        return [asdict(item) for item in items]

    try:
        pooled = asyncio.run(extract_all())
    finally:
        extractor.close()
    inline = [asdict(extract_article(url, text, **FIELDS)) for url, text in pages]
    assert pooled == inline
    assert all(item["title"] for item in pooled)


@pytest.mark.slow
def test_a_dead_worker_costs_one_page_and_is_replaced() -> None:
    url, text = saved_pages()[0]
    extractor = Extractor(1)

    async def kill_then_extract() -> str:
        await extractor.article(url, text, **FIELDS)  # the worker is up
        for process in list(extractor.executor._processes.values()):  # type: ignore[union-attr]
            os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            await extractor.article(url, text, **FIELDS)
        return (await extractor.article(url, text, **FIELDS)).title

    try:
        assert asyncio.run(kill_then_extract())
    finally:
        extractor.close()


def test_zero_processes_extracts_inline_and_negative_is_refused() -> None:
    url, text = saved_pages()[0]
    extractor = Extractor(0)
    item = asyncio.run(extractor.article(url, text, **FIELDS))
    assert item == extract_article(url, text, **FIELDS)
    with pytest.raises(ValueError, match="0 or more"):
        Extractor(-1)
