"""What both markups share: the request context, link writing, pagers, the order of body blocks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from coopspider.sample_site.grammars import Pager
    from coopspider.sample_site.model import SampleArticle, SampleCategory, SampleSite, Snapshot

VIETNAM = dt.timezone(dt.timedelta(hours=7))
WEEKDAYS = ["Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật"]
NO_IMAGE = "/Images/no-image.jpg"
LOGO = "/Images/logo.png"
ADMIN_PATH = "/admin/login.aspx"


def esc(text: str) -> str:
    """HTML-escape text for an element or an attribute."""
    return escape(text, quote=True)


@dataclass
class Context:
    """One rendering: the site as it is now, the root the client used, and the clock."""

    site: SampleSite
    base_url: str | None
    now: dt.datetime
    data: Snapshot

    @property
    def categories(self) -> list[SampleCategory]:
        """The news categories in menu order."""
        return list(self.data.categories.values())

    def listed(self, slug: str) -> list[SampleArticle]:
        """The articles a category lists, newest first."""
        return self.data.listed.get(slug, [])

    def href(self, path: str, style: str = "rel") -> str:
        """`path` written relative ("rel"), absolute ("abs") or absolute in the other scheme, and
        escaped for an attribute (`&` as `&amp;`, as browsers expect)."""
        if not self.base_url or style == "rel":
            return esc(path)
        parts = urlsplit(self.base_url)
        scheme = parts.scheme
        if style == "other":
            scheme = "https" if scheme == "http" else "http"
        return esc(f"{scheme}://{parts.netloc}{path}")

    def mixed(self, path: str, key: str | int) -> str:
        """`href(path)`: relative for most keys, absolute for some, the other scheme for others."""
        style = {0: "other", 3: "abs"}.get(int(key) % 7, "rel")
        return self.href(path, style)

    def clock(self) -> str:
        """The header clock, e.g. "Thứ 5, 30/11/2023, 15:10"."""
        return f"{WEEKDAYS[self.now.weekday()]}, {self.now:%d/%m/%Y, %H:%M}"

    def ticker(self, exclude: SampleArticle | None = None) -> list[SampleArticle]:
        """The newest articles the "TIN MỚI" ticker shows."""
        return [a for a in self.data.latest[:6] if a is not exclude][:5]

    def related(self, article: SampleArticle, category: str, limit: int = 5) -> list[SampleArticle]:
        """Other articles of the category, the older neighbours first."""
        listed = self.listed(category)
        at = next((i for i, a in enumerate(listed) if a is article), 0)
        others = listed[at + 1 :] + listed[:at][::-1]
        return others[:limit]

    def page_slice(self, category: SampleCategory, page: int) -> list[SampleArticle]:
        """The articles listing page `page` of a category shows."""
        per_page = self.site.per_page
        return self.listed(category.slug)[(page - 1) * per_page : page * per_page]


def body_blocks(article: SampleArticle) -> list[str | tuple[str, str | None]]:
    """Paragraphs with the images spread between them; never an image before the lead."""
    blocks: list[str | tuple[str, str | None]] = list(article.paragraphs)
    count, images = len(article.paragraphs), article.images
    # Insert from the last so earlier positions stay valid.
    for index in range(len(images) - 1, -1, -1):
        after = max(1, (index + 1) * count // (len(images) + 1))
        blocks.insert(after, images[index])
    return blocks


def views(article: SampleArticle) -> int:
    """A stable view count for the article."""
    return int(article.article_id) * 37 % 2000 + 50


def thumbnail(article: SampleArticle) -> str:
    """Path of the listing thumbnail."""
    return article.images[0][0] if article.images else NO_IMAGE


def pager_window(page: int, pages: int, radius: int = 2) -> range:
    """Page numbers shown around the current one."""
    return range(max(1, page - radius), min(pages, page + radius) + 1)


@dataclass(frozen=True)
class PagerItem:
    """One element of a grammar's own pager: a link to `page`, or the current page's number."""

    label: str
    page: int
    current: bool = False
    title: str | None = None  # the link's title attribute
    rel: str | None = None  # "prev", "next", "first" or "last" for step links; None for numbers


def pager_items(pager: Pager, page: int, pages: int) -> list[PagerItem]:
    """The items of a grammar's pager on listing page `page` of `pages`, in reading order."""
    items = []
    if pager.first_last and page > 1:
        items.append(PagerItem(pager.first_last[0], 1, rel="first"))
    if pager.previous_label and page > 1:
        items.append(PagerItem(pager.previous_label, page - 1, rel="prev"))
    if pager.numbers:
        items += [PagerItem(str(n), n, current=n == page) for n in pager_window(page, pages)]
    if page < pages:
        items.append(PagerItem(pager.next_label, page + 1, title=pager.next_title, rel="next"))
    if pager.first_last and page < pages:
        items.append(PagerItem(pager.first_last[1], pages, rel="last"))
    return items


def excerpt(text: str, limit: int = 220) -> str:
    """`text` cut on a word boundary near `limit` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "..."
