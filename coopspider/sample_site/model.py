"""The sample site's data (articles, categories, counter): the ground truth tests compare with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from coopspider.sample_site.grammars import DEFAULT_GRAMMAR, SampleGrammar, sample_grammar
from coopspider.sample_site.render import render
from coopspider.sample_site.routing import Routes
from coopspider.sample_site.texts import CATEGORIES, DOCUMENTS, SITE_NAME

MARKUPS = ("portal", "classic")


@dataclass
class SampleArticle:
    """One article as the site serves it; every field is what a perfect extractor would return."""

    article_id: str  # numeric id in the URL, e.g. "6389"
    slug: str  # ASCII URL slug, fixed at creation like on the real platform (titles may change)
    categories: list[str]  # category slugs whose listings show it; the first one is canonical
    title: str  # headline, NFC
    date: dt.date  # publication date
    paragraphs: list[str]  # body paragraphs, lead first; no captions, no author
    images: list[tuple[str, str | None]] = field(default_factory=list)  # (path, caption or None)
    author: str | None = None  # author name as printed, None when the page shows none
    date_label: str = "Ngày"  # "Ngày", or "Ngày cập nhật" on the platform's older generation
    # URL grammar of the site serving it; the site sets it on every article it renders.
    grammar: SampleGrammar = field(default=DEFAULT_GRAMMAR, repr=False, compare=False)
    category_ids: dict[str, str] = field(
        default_factory=lambda: {slug: cid for slug, cid, _ in CATEGORIES},
        repr=False,
        compare=False,
    )  # category slug -> id, for grammars that put the id in article URLs

    @property
    def date_raw(self) -> str:
        """The date line as printed on the article page, e.g. "Ngày: 13/07/2023"."""
        return f"{self.date_label}: {self.date:%d/%m/%Y}"

    @property
    def lead(self) -> str:
        """The first body paragraph."""
        return self.paragraphs[0] if self.paragraphs else ""

    def path_in(self, category: str) -> str:
        """The article's path under one of its categories."""
        return self.grammar.article_path(
            category=category,
            category_id=self.category_ids.get(category, "0"),
            slug=self.slug,
            article_id=self.article_id,
            date=self.date,
        )

    @property
    def key(self) -> str:
        """What identifies the article in its URLs: the id, or the slug where URLs carry none."""
        return self.slug if self.grammar.id_is_slug else self.article_id

    @property
    def path(self) -> str:
        """The canonical path, under the first category."""
        return self.path_in(self.categories[0])

    @property
    def paths(self) -> list[str]:
        """Every path the article is served and linked under, canonical first (once each)."""
        return list(dict.fromkeys(self.path_in(category) for category in self.categories))


@dataclass(frozen=True)
class SampleCategory:
    """A news category as it stands now (built on demand, so the page count is current)."""

    slug: str  # e.g. "tin-tuc-su-kien"
    category_id: str  # e.g. "3092"
    name: str  # menu label, e.g. "Tin tức - Sự kiện"
    pages: int  # number of listing pages (at least 1)
    grammar: SampleGrammar = DEFAULT_GRAMMAR
    per_page: int = 6  # articles per listing page (offset pagination counts in them)

    @property
    def path(self) -> str:
        """Path of the first listing page, e.g. "/tin-tuc-su-kien-3092.html"."""
        return self.page_path(1)

    def page_path(self, page: int) -> str:
        """Path of listing page `page` (1-based), with its query string if the grammar has one."""
        return self.grammar.listing_path(
            category=self.slug, category_id=self.category_id, page=page, per_page=self.per_page
        )


# A news page: (category, listing page number) or (category, article shown under it).
NewsPage = tuple[SampleCategory, int | SampleArticle]


@dataclass(frozen=True)
class Snapshot:
    """The site's data indexed once, so a page renders in time independent of repeated scans."""

    grammar: SampleGrammar
    latest: list[SampleArticle]  # newest first
    listed: dict[str, list[SampleArticle]]  # category slug -> its articles, newest first
    categories: dict[str, SampleCategory]  # slug -> category, in menu order
    by_id: dict[str, SampleArticle]
    # URL -> news page: every listing page (and page 1 in the later pages' form) and every
    # article URL the site serves; looked up as a server reads query strings (see Routes).
    routes: Routes[NewsPage]
    menu_pages: Routes[str]  # URL -> kind of the menu's non-news page ("intro", "documents", ...)


@dataclass
class SampleSite:
    """A generated alliance site; pages are rendered on demand from the current data."""

    articles: list[SampleArticle]
    markup: str = "portal"  # "portal" (div layout) or "classic" (table layout)
    per_page: int = 6  # articles per listing page
    counter_total: int = 280451  # "Thống kê truy cập"
    counter_online: int = 43  # "Số người trực tuyến"
    category_specs: list[tuple[str, str, str]] = field(
        default_factory=lambda: list(CATEGORIES)
    )  # (slug, id, name) of the news categories, in menu order
    name: str = SITE_NAME
    # URL grammar (see sample_site.grammars): a site profile's name, or a platform no profile knows
    grammar: str = "thaibinh"
    clock: dt.datetime | None = None  # header clock; None shows the current time in UTC+7
    _cache: tuple[object, Snapshot] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.markup not in MARKUPS:
            raise ValueError(f"unknown markup {self.markup!r}; expected one of {MARKUPS}")
        self.snapshot()  # gives every article the site's grammar, so its paths are right

    def snapshot(self) -> Snapshot:
        """Orderings and lookups of the current data (what one page rendering works from)."""
        # Reused while nothing that orders or places articles has changed; edits to titles or
        # bodies need no check since the snapshot holds the article objects themselves.
        key = (
            self.per_page,
            tuple(self.category_specs),
            self.grammar,
            [(id(a), a.date, a.article_id, a.slug, tuple(a.categories)) for a in self.articles],
        )
        if self._cache and self._cache[0] == key:
            return self._cache[1]
        grammar = sample_grammar(self.grammar)
        category_ids = {slug: cid for slug, cid, _ in self.category_specs}
        for article in self.articles:
            article.grammar, article.category_ids = grammar, category_ids
        latest = sorted(self.articles, key=_newest_first)
        listed: dict[str, list[SampleArticle]] = {slug: [] for slug, _, _ in self.category_specs}
        for article in latest:
            for slug in article.categories:
                if slug in listed:
                    listed[slug].append(article)
        categories = [
            SampleCategory(
                slug,
                cid,
                name,
                max(1, -(-len(listed[slug]) // self.per_page)),
                grammar,
                self.per_page,
            )
            for slug, cid, name in self.category_specs
        ]
        by_id = {article.article_id: article for article in self.articles}
        news: list[tuple[str, NewsPage]] = []
        for category in categories:
            news += [(category.page_path(n), (category, n)) for n in range(1, category.pages + 1)]
            if alias := grammar.first_page_alias(
                category=category.slug, category_id=category.category_id
            ):
                news.append((alias, (category, 1)))
            # An article listed under two categories without the category in its URL is served
            # under the first (Routes keeps the first page registered under a URL).
            news += [(a.path_in(category.slug), (category, a)) for a in listed[category.slug]]
        snapshot = Snapshot(
            grammar,
            latest,
            listed,
            {c.slug: c for c in categories},
            by_id,
            Routes(news),
            Routes((path, kind) for kind, path in grammar.menu.items()),
        )
        self._cache = (key, snapshot)
        return snapshot

    @property
    def categories(self) -> list[SampleCategory]:
        """The news categories with their current listing page counts."""
        return list(self.snapshot().categories.values())

    def category(self, slug: str) -> SampleCategory | None:
        """The category with this slug, or None."""
        return self.snapshot().categories.get(slug)

    def latest(self, limit: int | None = None) -> list[SampleArticle]:
        """Articles newest first (ties broken by id)."""
        ordered = self.snapshot().latest
        return ordered if limit is None else ordered[:limit]

    def category_articles(self, slug: str) -> list[SampleArticle]:
        """Articles listed in a category, newest first, as the listing pages show them."""
        return self.snapshot().listed.get(slug, [])

    def page_count(self, slug: str) -> int:
        """Number of listing pages of a category (an empty category still has page 1)."""
        category = self.category(slug)
        return category.pages if category else 1

    def listing_paths(self) -> list[str]:
        """Paths of every listing page of every news category, in menu then page order."""
        return [c.page_path(n) for c in self.categories for n in range(1, c.pages + 1)]

    def article_paths(self) -> list[str]:
        """Every path an article is linked under, with its query string if the grammar has one:
        one per category of each article, unless its URL does not name the category."""
        self.snapshot()  # articles added since the last one get the site's grammar
        return [path for article in self.articles for path in article.paths]

    def article_keys(self) -> set[str]:
        """What identifies each article in its URLs (`SampleArticle.key`): one per article."""
        self.snapshot()
        return {article.key for article in self.articles}

    def menu_page_paths(self) -> list[str]:
        """Paths of the main menu's non-news pages (introduction, history, organisation chart,
        documents, contact), in menu order: never articles, though some are listing-shaped."""
        return [path for _, path in sample_grammar(self.grammar).menu.items()]

    def pdf_paths(self) -> list[str]:
        """Paths of the PDF files the documents page links to (under /Uploads/)."""
        return [document.path for document in DOCUMENTS]

    def article(self, article_id: str) -> SampleArticle | None:
        """The article with this id, or None."""
        return self.snapshot().by_id.get(article_id)

    def render(self, path: str, base_url: str | None = None) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path; 404 with a Vietnamese page if unknown.

        `base_url` is the root the client used (e.g. "http://127.0.0.1:8000/"); with it some links
        are written absolute, in that scheme or the other one. Without it every link is relative.
        """
        return render(self, path, base_url)


def _newest_first(article: SampleArticle) -> tuple[int, int]:
    return (-article.date.toordinal(), -int(article.article_id))
