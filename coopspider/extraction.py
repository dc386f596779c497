"""Run the article page object in worker processes, so extraction does not slow the crawl.

Extracting an article costs about as much CPU as Scrapy spends downloading and scheduling it; in
the crawl's own process the two would take turns on one core. Worker processes let extraction use
the other cores. The page object stays a pure function of (URL, HTML): only text goes to the
workers and only the item comes back.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TYPE_CHECKING, NotRequired, TypedDict, Unpack

from coopspider.items import ArticleItem
from coopspider.pages.article import ArticlePage
from coopspider.processes import sigint_held_for_children, start_helper

if TYPE_CHECKING:
    from coopspider.profiles import SiteProfile


class ArticleContext(TypedDict):
    """What the crawl knows of an article page besides its URL and HTML."""

    date_order: str  # DMY or MDY, for dates the page writes with numbers only
    profile: NotRequired[SiteProfile | None]
    site: str
    article_id: str
    category: str | None
    fetched_at: str


def extract_article(url: str, html_text: str, **context: Unpack[ArticleContext]) -> ArticleItem:
    """The article item of one page (runs in a worker process, or inline)."""
    page = ArticlePage(
        url, html_text, date_order=context["date_order"], profile=context.get("profile")
    )
    fields = page.to_item()
    return ArticleItem(
        url=fields["url"],
        site=context["site"],
        article_id=context["article_id"],
        category=context["category"],
        title=fields["title"] or "",
        published_at=fields["published_at"],
        published_raw=fields["published_raw"],
        author=fields["author"],
        summary=fields["summary"],
        body=fields["body"],
        images=fields["images"],
        fetched_at=context["fetched_at"],
    )


def default_processes() -> int:
    """One worker per core beyond the crawl's own, at most two: the crawl rarely outruns two."""
    return max(0, min(2, (os.cpu_count() or 1) - 1))


class Extractor:
    """Extract articles in `processes` worker processes, or inline when `processes` is 0."""

    def __init__(self, processes: int) -> None:
        if processes < 0:
            raise ValueError(f"processes must be 0 or more, got {processes}")
        self.processes = processes
        self.executor: Executor | None = self._new_executor() if processes else None

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn: never fork a process that runs a reactor and holds database connections.
        # The workers die with the crawl, even a crawl killed outright, and ignore Ctrl-C: the
        # crawl finishes the pages in flight and then shuts them down.
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_helper,
            initargs=(os.getpid(),),
        )

    async def article(
        self, url: str, html_text: str, **context: Unpack[ArticleContext]
    ) -> ArticleItem:
        """The article item of one page; a worker that died is replaced before the error is
        raised, so one pathological page costs that page only."""
        extract = partial(extract_article, url, html_text, **context)
        if self.executor is None:
            return extract()
        loop = asyncio.get_running_loop()
        # The pool starts its workers as pages are submitted (spawn start method): in here.
        with sigint_held_for_children():
            extracted = loop.run_in_executor(self.executor, extract)
        try:
            return await extracted
        except BrokenProcessPool:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new_executor()
            raise

    def close(self) -> None:
        """Stop the workers (after the pages already submitted are done)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
