"""The `lienminh` spider: home page -> category listings and their pagination -> articles.

Incremental by default: it knows the archived articles of its site when it starts, walks down a
category's pages only while they show articles it does not know, fetches the new ones, and
re-checks known ones on a schedule (recent ones every crawl, older ones now and then) with
conditional requests, so a site that did not change costs a few pages.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from coopspider.capture import http_capture
from coopspider.exitcodes import refuse_to_start
from coopspider.extraction import Extractor, default_processes
from coopspider.items import (
    MAX_ARTICLE_ID_CHARS,
    ArticleGoneItem,
    ArticleItem,
    ArticleNotModifiedItem,
    CounterItem,
    ListingItem,
)
from coopspider.middlewares import ForbiddenByRobots, RedirectLoop
from coopspider.pages.article import ArticlePage
from coopspider.pages.decoding import looks_binary, page_text
from coopspider.pages.listing import ListingPage
from coopspider.profiles import (
    SiteProfile,
    load_profiles,
    resolve_site,
    site_tables,
    whole_days,
    with_site_table,
)
from coopspider.urls import LinkKind, ParsedUrl, on_site, site_of, split_login
from storage import (
    KnownArticle,
    known_articles,
    open_database,
    resolve_database_url,
    walk_may_stop_at_known,
)

# Listing pages (and the home page) go before article pages: the listings decide which articles
# to fetch, and a page linking 50,000 articles must not hold them up.
LISTING_PRIORITY = 10
# Answers to an article request the spider reads itself instead of dropping them as errors.
ARTICLE_STATUSES = [304, 404, 410]
# Why a request failed, as named in the stats key coopspider/fetch_failed/{reason}.
_FAILURE_REASONS: list[tuple[type[BaseException], str]] = [
    (DownloadTimeoutError, "timeout"),
    (DownloadFailedError, "connection"),  # reset or dropped before a whole answer
    (DownloadConnectionRefusedError, "connection_refused"),
    (CannotResolveHostError, "dns"),
    (ResponseDataLossError, "data_loss"),  # body shorter than its Content-Length
    (DownloadCancelledError, "too_large"),  # DOWNLOAD_MAXSIZE, size announced
    (CancelledError, "too_large"),  # DOWNLOAD_MAXSIZE, size found while reading
    (RedirectLoop, "redirect_loop"),  # a redirect back to a URL of its own chain
    (IgnoreRequest, "ignored"),  # REDIRECT_MAX_TIMES redirects, offsite redirect, robots.txt
]


def utc_now() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LienminhSpider(scrapy.Spider):
    """Crawl one alliance site by its site profile's URL grammar.

    Arguments (`-a`): `site` (a site profile, default thaibinh; a new name with a `base_url`
    files a new site under that name), `base_url` (the site root, default the profile's),
    `profile` (the profile whose grammar a new site uses), `revisit_days`, `revisit_old_days`
    and `full` (override the REVISIT_DAYS, REVISIT_OLD_DAYS and FULL_CRAWL settings for this
    crawl). The `SITE_PROFILES` setting (else $COOPSPIDER_SITE_TABLES) holds the user's
    `[sites.NAME]` tables; `site_table` (JSON) replaces the one of `site` (how `run --scrapyd`
    hands it to a node). A login in the base URL (`https://user:password@host/`) is sent as
    HTTP Basic authentication to the site's host.
    """

    name = "lienminh"

    def __init__(
        self,
        base_url: str | None = None,
        site: str | None = None,
        profile: str | None = None,
        profiles: dict[str, SiteProfile] | None = None,
        revisit_days: str | int | None = None,
        revisit_old_days: str | int | None = None,
        full: str | bool | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        chosen = resolve_site(profiles or load_profiles(), site, base_url, profile)
        # A login in the base URL is sent as HTTP Basic authentication, to the site's host only,
        # and never becomes part of a URL the crawl requests, logs or stores.
        bare_url, login = split_login(chosen.base_url)
        self.profile = replace(chosen, base_url=bare_url)
        self.base_url = bare_url
        self.login: dict[str, str] = {}
        if login is not None:
            user, password = login
            # Scrapy compares this with the request's host and port.
            host = urlsplit(bare_url).netloc
            self.login = {"http_user": user, "http_pass": password, "http_auth_domain": host}
        self.site = self.profile.name
        self.article_ids: set[str] = set()
        self.extractor: Extractor | None = None
        self._arguments = {
            "REVISIT_DAYS": _days("revisit_days", revisit_days),
            "REVISIT_OLD_DAYS": _days("revisit_old_days", revisit_old_days),
            "FULL_CRAWL": _flag("full", full),
        }
        self.known: dict[str, KnownArticle] = {}
        self.unknown_met: dict[str | None, set[str]] = {}  # per category walk
        self.skipped_listings: set[str] = set()
        self.categories: set[str] = set()  # whose listings this crawl asked for
        self.offsite_seen: set[tuple[str, int | None] | None] = set()  # sites linked to
        self.categories_capped = False
        self.capture = False  # whether items carry their HTTP exchange (WARC writing on)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> LienminhSpider:
        try:
            tables = with_site_table(
                site_tables(crawler.settings.getdict("SITE_PROFILES")),
                kwargs.get("site"),
                kwargs.pop("site_table", None),
            )
            kwargs["profiles"] = load_profiles(tables)
            spider = super().from_crawler(crawler, *args, **kwargs)
        except ValueError as error:  # an unknown site, a bad profile or argument: one line
            refuse_to_start(str(error))
        # Spider priority: the profile beats the project defaults, a -s on the command line wins.
        crawler.settings.update(spider.profile.settings(), priority="spider")
        processes = crawler.settings.get("COOPSPIDER_EXTRACT_PROCESSES")
        spider.extractor = Extractor(
            default_processes() if processes in (None, "") else int(processes)
        )
        crawler.signals.connect(spider.close_extractor, signal=signals.spider_closed)
        settings = crawler.settings
        spider.capture = settings.getbool("COOPSPIDER_STORE_ENABLED", True) and settings.getbool(
            "WARC_ENABLED", True
        )
        return spider

    async def close_extractor(self) -> None:
        if self.extractor is not None:
            await asyncio.to_thread(self.extractor.close)

    def _setting(self, name: str) -> Any:
        """A spider argument when given, else the crawler setting."""
        given = self._arguments[name]
        if given is not None:
            return given
        if name == "FULL_CRAWL":
            return self.settings.getbool(name, False)
        return _days(name, self.settings.getint(name), where="setting")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.full = self._setting("FULL_CRAWL")
        self.revisit_within = timedelta(days=self._setting("REVISIT_DAYS"))
        self.revisit_old_after = timedelta(days=self._setting("REVISIT_OLD_DAYS"))
        walk_may_stop = False
        if self.settings.getbool("COOPSPIDER_STORE_ENABLED", True):
            self.known, walk_may_stop = await asyncio.to_thread(self._load_known)
        # With nothing known there is no walk to cut short: every listing page is followed; nor
        # after a crawl that archived new articles without finishing (walk_may_stop_at_known).
        self.incremental = bool(self.known) and not self.full and walk_may_stop
        yield scrapy.Request(
            self.base_url,
            callback=self.parse_home,
            errback=self.fetch_failed,
            priority=LISTING_PRIORITY,
            meta=self.login,
        )

    def _revisits(self) -> Iterator[scrapy.Request]:
        """Conditional requests for the known articles due for a re-check."""
        now = datetime.now(UTC)
        for known in self.known.values():
            if known.removed_at is None and (self.full or self._due(known, now)):
                self.crawler.stats.inc_value("coopspider/articles/revisited")
                self.article_ids.add(known.article_id)
                yield self._article_request(
                    self._on_this_site(known.url), known.article_id, known.category
                )

    def _load_known(self) -> tuple[dict[str, KnownArticle], bool]:
        """The site's archived articles, and whether a listing walk may stop at known ones."""
        database = open_database(resolve_database_url(self.settings.get("DATABASE_URL")))
        run_id = self.crawler.stats.get_value("coopspider/run_id")
        try:
            with database.session() as session:
                known = {known.article_id: known for known in known_articles(session, self.site)}
                return known, walk_may_stop_at_known(session, self.site, run_id)
        finally:
            database.close()

    def _due(self, known: KnownArticle, now: datetime) -> bool:
        """Whether a known article is fetched again in this crawl to look for edits."""
        if known.published_at is not None and now - known.published_at <= self.revisit_within:
            return True
        return now - known.last_seen_at >= self.revisit_old_after

    def _on_this_site(self, url: str) -> str:
        """An archived URL moved to this crawl's scheme and host (the site may have moved)."""
        parts = urlsplit(url)
        return urljoin(self.base_url, parts.path + (f"?{parts.query}" if parts.query else ""))

    def parse_home(self, response: Response) -> Iterator[CounterItem | scrapy.Request]:
        """The home page gives the counter reading of this crawl and the first links."""
        if not self._is_page(response):
            return
        counter = ArticlePage(response.url, page_text(response), profile=self.profile).counter()
        yield CounterItem(
            site=self.site,
            url=response.url,
            observed_at=utc_now(),
            total=counter.total,
            online=counter.online,
        )
        # Known articles are asked for only now: a server that answers its home page with a 304
        # (or not at all) would make every "304 Not Modified" to them meaningless.
        yield from self._revisits()
        links = self._site_links(response)
        if not links:
            # The site's URL grammar fits none of its links: a site no profile knows, or one
            # that changed platform.
            self.crawler.stats.set_value("coopspider/home/no_grammar_links", 1)
            self.logger.warning(
                "No link on the home page %s fits the URL grammar of site %r; learn the site "
                "with: coopspider discover %s",
                response.url,
                self.site,
                self.base_url,
            )
        yield from self.follow_links(links, response.url)

    def parse_listing(self, response: Response) -> Iterator[ListingItem | scrapy.Request]:
        """A category page: what it lists, the articles to fetch, and maybe the next page."""
        if not self._is_page(response):
            return
        here = self.profile.grammar.classify(response.url)
        links = self._site_links(response)
        articles = [
            (parsed.article_id, parsed.category)
            for _, parsed in links
            if parsed.kind is LinkKind.ARTICLE and parsed.article_id
        ]
        listed = [article_id for article_id, category in articles if category == here.category]
        # An incremental crawl may read no article at all; the listings still show it works.
        self.crawler.stats.inc_value("coopspider/listings/articles_listed", len(listed))
        later_pages = [
            (url, parsed)
            for url, parsed in links
            if parsed.kind is LinkKind.LISTING
            and parsed.category == here.category
            and parsed.page > here.page
        ]
        if here.category is not None:
            yield ListingItem(
                site=self.site,
                url=response.url,
                category=here.category,
                page=here.page,
                article_ids=list(dict.fromkeys(listed)),
                last_page=not later_pages,
                linked_ids=list(dict.fromkeys(article_id for article_id, _ in articles)),
            )
        if not self.incremental:
            yield from self.follow_links(links, response.url)
            return
        # Newest first: a page whose articles are all known means the pages after it are too.
        # An unknown article met on an earlier page of the walk does not count: the "latest
        # news" boxes repeat the newest articles on every page.
        met = self.unknown_met.setdefault(here.category, set())
        unknown = {article_id for article_id in listed if article_id not in self.known} - met
        met.update(unknown)
        go_on = bool(unknown)
        if later_pages and not go_on:
            self.crawler.stats.inc_value("coopspider/listings/walk_stopped")
        followed = [
            (url, parsed)
            for url, parsed in links
            if not (parsed.kind is LinkKind.LISTING and parsed.category == here.category)
            or (go_on and parsed.page == here.page + 1)
        ]
        yield from self.follow_links(followed, response.url)

    def _site_links(self, response: TextResponse) -> list[tuple[str, ParsedUrl]]:
        """The page's links on this site, in this crawl's scheme and host, classified; links
        into categories the profile skips are left out, and so are article and listing links
        to another site (another host or port), which are counted."""
        links = []
        page = ListingPage(response.url, response.text, self.profile.grammar)
        for link, parsed in page.classified_links():
            url = on_site(link, self.base_url)
            if url is None:
                self._offsite_link(link)
                continue
            if not self.profile.follows_category(parsed.category):
                continue
            if parsed.kind is LinkKind.LISTING:
                # A query string that names no other page (session ids, tracking, a trap making
                # endless variants) is dropped; then pagination cycles end in Scrapy's duplicate
                # filter: each listing page is fetched once.
                bare = urlunsplit(urlsplit(url)._replace(query=""))
                if self.profile.grammar.classify(bare) == parsed:
                    url = bare
            links.append((url, parsed))
        return links

    def _offsite_link(self, url: str) -> None:
        self.crawler.stats.inc_value("coopspider/links/offsite")
        site = site_of(url)
        if site not in self.offsite_seen:
            self.offsite_seen.add(site)
            self.logger.info("Links to another site are not followed, first: %s", url)

    def follow_links(
        self, links: list[tuple[str, ParsedUrl]], page_url: str
    ) -> Iterator[scrapy.Request]:
        """Requests for the listings and the articles to fetch that a page links to.

        At most COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE new articles are taken from one page, and
        listings of at most COOPSPIDER_MAX_CATEGORIES categories are read in one crawl: a page
        of 50,000 article links or listings that each name a new category end there.
        """
        now = datetime.now(UTC)
        article_room = self.settings.getint("COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE")
        left_out = 0
        for url, parsed in links:
            if parsed.kind is LinkKind.LISTING:
                if parsed.page > self.settings.getint("COOPSPIDER_MAX_LISTING_PAGE"):
                    self._skip_listing(url)
                    continue
                if not self._category_allowed(parsed.category, url):
                    continue
                yield scrapy.Request(
                    url,
                    callback=self.parse_listing,
                    errback=self.fetch_failed,
                    priority=LISTING_PRIORITY,
                    meta=self.login,
                )
            elif (
                parsed.kind is LinkKind.ARTICLE
                and parsed.article_id is not None
                and parsed.article_id not in self.article_ids
            ):
                if article_room <= 0:
                    left_out += 1
                    continue
                article_room -= 1
                # One article can sit under several category paths: the id decides, not the URL.
                self.article_ids.add(parsed.article_id)
                if len(parsed.article_id) > MAX_ARTICLE_ID_CHARS:
                    self.crawler.stats.inc_value("coopspider/articles/id_too_long")
                    self.logger.warning(
                        "Article id longer than %d characters, not crawled: %s",
                        MAX_ARTICLE_ID_CHARS,
                        url,
                    )
                    continue
                known = self.known.get(parsed.article_id)
                # A known article not due for a re-check is not downloaded again; one that was
                # removed and is linked again is.
                if (
                    known is None
                    or self.full
                    or known.removed_at is not None
                    or self._due(known, now)
                ):
                    yield self._article_request(url, parsed.article_id, parsed.category)
        if left_out:
            self.crawler.stats.inc_value("coopspider/links/article_links_capped", left_out)
            self.logger.warning(
                "%s links %d more articles than COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE (%d) "
                "allows; they are not followed from this page",
                page_url,
                left_out,
                self.settings.getint("COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE"),
            )

    def _category_allowed(self, category: str | None, url: str) -> bool:
        """Whether a listing of `category` may be read: a category met before, or a new one
        while fewer than COOPSPIDER_MAX_CATEGORIES are."""
        if category is None or category in self.categories:
            return True
        cap = self.settings.getint("COOPSPIDER_MAX_CATEGORIES")
        if len(self.categories) < cap:
            self.categories.add(category)
            return True
        self.crawler.stats.inc_value("coopspider/listings/categories_capped")
        if not self.categories_capped:
            self.categories_capped = True
            self.logger.warning(
                "This crawl has read the listings of COOPSPIDER_MAX_CATEGORIES (%d) categories; "
                "new ones are not followed, first %s",
                cap,
                url,
            )
        return False

    def _article_request(self, url: str, article_id: str, category: str | None) -> scrapy.Request:
        """A request for an article page; conditional when the archive holds its validators."""
        headers = {}
        known = self.known.get(article_id)
        if known is not None and known.removed_at is None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.fetch_failed,
            headers=headers,
            cb_kwargs={"article_id": article_id, "category": category},
            meta={"handle_httpstatus_list": ARTICLE_STATUSES, **self.login},
        )

    async def parse_article(
        self, response: Response, article_id: str, category: str | None
    ) -> AsyncIterator[ArticleItem | ArticleNotModifiedItem | ArticleGoneItem]:
        if response.status in ARTICLE_STATUSES:
            if (answer := self._article_answer(response, article_id)) is not None:
                yield answer
            return
        if not self._is_page(response):
            return
        assert self.extractor is not None
        fetched_at = utc_now()
        try:
            item = await self.extractor.article(
                response.url,
                page_text(response),
                date_order=self.settings.get("DATE_ORDER", "DMY"),
                profile=self.profile,
                site=self.site,
                article_id=article_id,
                category=category,
                fetched_at=fetched_at,
            )
        except Exception as error:  # noqa: BLE001 - one odd page must never stop the crawl
            self.logger.exception("Extraction failed on %s: %s", response.url, error)
            self._count_unparsed(response, "extraction error")
            return
        item.etag = _header(response, b"ETag")
        item.last_modified = _header(response, b"Last-Modified")
        if self.capture:
            item.capture = http_capture(response, fetched_at)
        yield item

    def _article_answer(
        self, response: Response, article_id: str
    ) -> ArticleNotModifiedItem | ArticleGoneItem | None:
        """304 and 404/410 answers: unchanged, or gone when the archive knows the article."""
        stats = self.crawler.stats
        if response.status == 304 and (doubt := _unfounded_304(response)) is not None:
            self._not_fetched("http_304", response.url, doubt)
            return None
        if article_id not in self.known:
            # A link to a page that never existed is the site's error, not a removal.
            self.logger.warning("Article link answers %s: %s", response.status, response.url)
            stats.inc_value("coopspider/articles/broken_links")
            return None
        if response.status == 304:
            return ArticleNotModifiedItem(
                site=self.site, url=response.url, article_id=article_id, fetched_at=utc_now()
            )
        stats.inc_value("coopspider/articles/gone")
        return ArticleGoneItem(
            site=self.site,
            url=response.url,
            article_id=article_id,
            status=response.status,
            capture=http_capture(response, utc_now()) if self.capture else None,
        )

    def _skip_listing(self, url: str) -> None:
        if url in self.skipped_listings:
            return
        self.skipped_listings.add(url)
        self.crawler.stats.inc_value("coopspider/listing/beyond_max_page")
        self.logger.warning(
            "Listing page beyond COOPSPIDER_MAX_LISTING_PAGE, not followed: %s", url
        )

    def fetch_failed(self, failure: Failure) -> None:
        """A request that failed for good (after its retries): logged and counted.

        Nothing is stored for it, so what the archive holds of the page stays as it was, and the
        next crawl asks for it again.
        """
        if failure.check(ForbiddenByRobots):
            return  # the site's choice, not a failure: the middleware counted and logged it
        reason = next(
            (name for kind, name in _FAILURE_REASONS if failure.check(kind)),
            type(failure.value).__name__,
        )
        if isinstance(failure.value, HttpError):
            reason = f"http_{failure.value.response.status}"
        detail = str(failure.value) if failure.check(RedirectLoop) else None
        # Scrapy hands errbacks the failure with the request set on it; Twisted's type omits it.
        self._not_fetched(reason, failure.request.url, detail)  # type: ignore[attr-defined]

    def _not_fetched(self, reason: str, url: str, detail: str | None = None) -> None:
        """Log and count a page not fetched, under coopspider/fetch_failed/{reason}."""
        self.crawler.stats.inc_value("coopspider/fetch_failed")
        self.crawler.stats.inc_value(f"coopspider/fetch_failed/{reason}")
        if detail:
            self.logger.warning("Not fetched (%s): %s: %s", reason, url, detail)
        else:
            self.logger.warning("Not fetched (%s): %s", reason, url)

    def _is_page(self, response: Response) -> TypeGuard[TextResponse]:
        """Whether the response is a readable HTML page; a file behind a page URL (an image, a
        PDF, served with or without an HTML content type) is logged and counted instead."""
        if isinstance(response, TextResponse) and not looks_binary(response.body):
            if len(response.body) > self.settings.getint("DOWNLOAD_WARNSIZE"):
                self.crawler.stats.inc_value("coopspider/pages/over_warnsize")
            return True
        self.crawler.stats.inc_value("coopspider/pages/not_html")
        self._count_unparsed(response, "not an HTML page")
        return False

    def _count_unparsed(self, response: Response, why: str) -> None:
        self.logger.warning("Page not parsed (%s): %s", why, response.url)
        self.crawler.stats.inc_value("coopspider/pages/unparsed")


def _unfounded_304(response: Response) -> str | None:
    """Why a "304 Not Modified" cannot be believed, or None: it answers a request that sent no
    validator, or names another entity tag than the one asked about. Counting either as
    "unchanged" would hide an edit."""
    request = response.request
    asked_tags = request.headers.get(b"If-None-Match") if request else None
    asked_since = request.headers.get(b"If-Modified-Since") if request else None
    if not asked_tags and not asked_since:
        return "304 Not Modified to a request that sent no If-None-Match or If-Modified-Since"
    answered_tag = response.headers.get(b"ETag")
    if asked_tags and answered_tag:
        asked = {_opaque_tag(tag) for tag in asked_tags.split(b",")}
        if _opaque_tag(answered_tag) not in asked and b"*" not in asked:
            tag = answered_tag.decode("latin-1")
            return f"304 Not Modified for entity tag {tag}, not the one asked about"
    return None


def _opaque_tag(tag: bytes) -> bytes:
    """An entity tag for the weak comparison of RFC 9110 (W/ dropped)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith(b"W/") else tag


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _days(name: str, value: str | int | None, where: str = "crawl argument") -> int | None:
    """A number of days given as a spider argument or setting; None when not given."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)  # arguments come as text; the rule is the profiles' one
    return whole_days(value, name, where)


def _flag(name: str, value: str | bool | None) -> bool | None:
    """A yes/no spider argument ("1", "true", "yes" / "0", "false", "no"); None when not given."""
    if value is None or isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name} must be 1 or 0, got {value!r}")
