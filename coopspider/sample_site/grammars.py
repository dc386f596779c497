"""URL grammars the sample site can be served in: one per shipped site profile's platform.

Each writes paths from format strings with the fields `category` (slug), `category_id`, `slug`,
`id`, `date` (a datetime.date, e.g. `{date:%Y/%m/%d}`) and `page`; the profile with the same name
in coopspider/profiles.toml reads them back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SampleGrammar:
    """How one platform writes article, first listing page and later listing page paths."""

    name: str  # the site profile this grammar imitates
    article: str
    first_page: str
    page: str
    markup: str  # the sample markup served by default in this grammar: "portal" or "classic"
    category_in_url: str | None = "slug"  # what an article URL says of its category: slug, id, none
    id_is_slug: bool = False  # WordPress: no number in article URLs, the slug identifies them

    def article_path(
        self, *, category: str, category_id: str, slug: str, article_id: str, date: dt.date
    ) -> str:
        """Path of an article listed under `category`."""
        return self.article.format(
            category=category, category_id=category_id, slug=slug, id=article_id, date=date
        )

    def listing_path(self, *, category: str, category_id: str, page: int) -> str:
        """Path of listing page `page` (1-based) of a category."""
        template = self.first_page if page == 1 else self.page
        return template.format(category=category, category_id=category_id, page=page)


GRAMMARS = {
    grammar.name: grammar
    for grammar in (
        SampleGrammar(
            "thaibinh",
            "/{category}/{slug}-{id}.html",
            "/{category}-{category_id}.html",
            "/{category}/page-{page}.htm",
            markup="portal",
        ),
        SampleGrammar(
            "caobang",
            "/vi/news/{category}/{slug}-{id}.html",
            "/vi/news/{category}/",
            "/vi/news/{category}/page-{page}/",
            markup="classic",
        ),
        SampleGrammar(
            "daknong",
            "/{date:%Y/%m/%d}/{slug}/",
            "/category/{category}/",
            "/category/{category}/page/{page}/",
            markup="portal",
            category_in_url=None,
            id_is_slug=True,
        ),
        SampleGrammar(
            "kontum",
            "/Tin-tức-Sự-kiện/{category}/ItemID/{id}/View/Details.aspx",
            "/Tin-tức-Sự-kiện/{category}.aspx",
            "/Tin-tức-Sự-kiện/{category}/currentpage/{page}.aspx",
            markup="classic",
        ),
        SampleGrammar(
            "kiengiang",
            "/trang/TinTuc/{category_id}/{id}/{slug}--.html",
            "/trang/TinTuc/{category_id}/{category}.html",
            "/trang/TinTuc/{category_id}/{category}.html?page={page}",
            markup="portal",
            category_in_url="id",
        ),
        SampleGrammar(
            "camau",
            "/{slug}.{id}",
            "/{category}",
            "/{category}?trang={page}",
            markup="classic",
            category_in_url=None,
        ),
        SampleGrammar(
            "quangtri",
            "/bai-viet/{slug}-{id}",
            "/danh-muc/{category}",
            "/danh-muc/{category}/trang-{page}",
            markup="portal",
            category_in_url=None,
        ),
    )
}
DEFAULT_GRAMMAR = GRAMMARS["thaibinh"]


def sample_grammar(name: str) -> SampleGrammar:
    """The grammar of that name; ValueError naming the known ones otherwise."""
    if name not in GRAMMARS:
        raise ValueError(f"unknown grammar {name!r}; expected one of {', '.join(sorted(GRAMMARS))}")
    return GRAMMARS[name]
