"""URL grammars the sample site can be served in.

Two kinds: one per shipped site profile's platform (named after the profile in
coopspider/profiles.toml, which reads its URLs back), and platforms no shipped profile knows
(`aspx-query`, `liferay`, `folders`, `joomla-offset`, `php-onepath`): the test bed of
`coopspider discover`, which must learn them from the site's own links.

Paths are written from format strings with these fields:
  `category` (slug), `category_id`, `instance` (a token of letters and digits per category, as a
  Liferay portlet instance), `slug`, `id`, `date` (a datetime.date, e.g. `{date:%Y/%m/%d}`),
  `page` (1-based) and `offset` (articles before the page: (page - 1) * per page).
A path may carry a query string (`/news.php?cat={category_id}&p={page}`); the server reads its
keys in any order and ignores keys no page at that path reads (see sample_site.routing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from dataclasses import dataclass

_TOKEN_ALPHABET = string.ascii_letters + string.digits


def instance_token(category: str) -> str:
    """A stable 12-character token of letters and digits for a category, e.g. "Qw3rTyU1oPaS"."""
    number = int.from_bytes(hashlib.sha256(category.encode("utf-8")).digest()[:12])
    letters = []
    for _ in range(12):
        number, index = divmod(number, len(_TOKEN_ALPHABET))
        letters.append(_TOKEN_ALPHABET[index])
    return "".join(letters)


@dataclass(frozen=True)
class MenuPaths:
    """Paths of the non-news pages of the main menu: never articles, sometimes listing-shaped."""

    intro: str  # "Giới thiệu"
    history: str  # "Lịch sử phát triển", under the introduction
    organisation: str  # "Sơ đồ tổ chức"
    documents: str  # "Văn bản": official documents, each a link to a PDF under /Uploads/
    contact: str  # "Liên hệ"

    def items(self) -> list[tuple[str, str]]:
        """(kind, path) in menu order; the kinds are the keys of texts.MENU_PAGES."""
        return [
            ("intro", self.intro),
            ("history", self.history),
            ("organisation", self.organisation),
            ("documents", self.documents),
            ("contact", self.contact),
        ]


@dataclass(frozen=True)
class Pager:
    """How listing pages link to each other where a grammar does not use the markup's own pager
    (numbers around the current page with first, previous, next and last links)."""

    numbers: bool  # page numbers around the current page
    next_label: str  # text of the link to the next page
    next_title: str | None = None  # its title attribute, where the text is only an arrow
    previous_label: str | None = None  # text of the link to the previous page; None: no link
    first_last: tuple[str, str] | None = None  # texts of the links to the first and last page


@dataclass(frozen=True)
class SampleGrammar:
    """How one platform writes its paths: articles, listing pages and the menu's other pages."""

    name: str  # the site profile this grammar imitates, or a platform no shipped profile knows
    article: str
    first_page: str
    page: str
    markup: str  # the sample markup served by default in this grammar: "portal" or "classic"
    menu: MenuPaths
    # What an article URL says of its category: slug, id, instance (a token per category), none.
    category_in_url: str | None = "slug"
    id_is_slug: bool = False  # no number in article URLs: the slug identifies the article
    pager: Pager | None = None  # None: the markup's own numbered pager

    def article_path(
        self, *, category: str, category_id: str, slug: str, article_id: str, date: dt.date
    ) -> str:
        """Path of an article listed under `category`."""
        return self.article.format(
            category=category,
            category_id=category_id,
            instance=instance_token(category),
            slug=slug,
            id=article_id,
            date=date,
        )

    def listing_path(self, *, category: str, category_id: str, page: int, per_page: int) -> str:
        """Path of listing page `page` (1-based) of a category showing `per_page` articles."""
        template = self.first_page if page == 1 else self.page
        return self._listing(template, category, category_id, page, per_page)

    def first_page_alias(self, *, category: str, category_id: str) -> str | None:
        """Page 1 written in the later pages' form (`?Page=1`, `?start=0`, `/page-1.htm`), which
        servers answer like the first page though no link uses it; None if it is the same."""
        alias = self._listing(self.page, category, category_id, 1, 1)
        first = self._listing(self.first_page, category, category_id, 1, 1)
        return None if alias == first else alias

    @staticmethod
    def _listing(template: str, category: str, category_id: str, page: int, per_page: int) -> str:
        return template.format(
            category=category,
            category_id=category_id,
            instance=instance_token(category),
            page=page,
            offset=(page - 1) * per_page,
        )


GRAMMARS = {
    grammar.name: grammar
    for grammar in (
        # -- the platforms of the shipped site profiles ------------------------------------------
        SampleGrammar(
            "thaibinh",
            "/{category}/{slug}-{id}.html",
            "/{category}-{category_id}.html",
            "/{category}/page-{page}.htm",
            markup="portal",
            menu=MenuPaths(
                "/gioi-thieu-3000.html",  # category-shaped, as on the real platform
                "/lich-su-phat-trien-3001.html",
                "/so-do-to-chuc.html",
                "/van-ban.html",
                "/lien-he.html",
            ),
        ),
        SampleGrammar(
            "caobang",
            "/vi/news/{category}/{slug}-{id}.html",
            "/vi/news/{category}/",
            "/vi/news/{category}/page-{page}/",
            markup="classic",
            menu=MenuPaths(
                "/vi/about/gioi-thieu.html",
                "/vi/about/lich-su-phat-trien.html",
                "/vi/about/so-do-to-chuc.html",
                "/vi/laws/",
                "/vi/contact/",
            ),
        ),
        SampleGrammar(
            "daknong",
            "/{date:%Y/%m/%d}/{slug}/",
            "/category/{category}/",
            "/category/{category}/page/{page}/",
            markup="portal",
            menu=MenuPaths(
                "/gioi-thieu/", "/lich-su-phat-trien/", "/so-do-to-chuc/", "/van-ban/", "/lien-he/"
            ),
            category_in_url=None,
            id_is_slug=True,
        ),
        SampleGrammar(
            "kontum",
            "/Tin-tức-Sự-kiện/{category}/ItemID/{id}/View/Details.aspx",
            "/Tin-tức-Sự-kiện/{category}.aspx",
            "/Tin-tức-Sự-kiện/{category}/currentpage/{page}.aspx",
            markup="classic",
            menu=MenuPaths(
                "/Giới-thiệu.aspx",
                "/Giới-thiệu/Lịch-sử-phát-triển.aspx",
                "/Giới-thiệu/Sơ-đồ-tổ-chức.aspx",
                "/Văn-bản.aspx",
                "/Liên-hệ.aspx",
            ),
        ),
        SampleGrammar(
            "kiengiang",
            "/trang/TinTuc/{category_id}/{id}/{slug}--.html",
            "/trang/TinTuc/{category_id}/{category}.html",
            "/trang/TinTuc/{category_id}/{category}.html?page={page}",
            markup="portal",
            menu=MenuPaths(
                "/trang/GioiThieu.html",
                "/trang/LichSuPhatTrien.html",
                "/trang/SoDoToChuc.html",
                "/trang/VanBan.html",
                "/trang/LienHe.html",
            ),
            category_in_url="id",
        ),
        SampleGrammar(
            "camau",
            "/{slug}.{id}",
            "/{category}",
            "/{category}?trang={page}",
            markup="classic",
            menu=MenuPaths(
                "/gioi-thieu", "/lich-su-phat-trien", "/so-do-to-chuc", "/van-ban", "/lien-he"
            ),
            category_in_url=None,
        ),
        SampleGrammar(
            "quangtri",
            "/bai-viet/{slug}-{id}",
            "/danh-muc/{category}",
            "/danh-muc/{category}/trang-{page}",
            markup="portal",
            menu=MenuPaths(
                "/trang/gioi-thieu",
                "/trang/lich-su-phat-trien",
                "/trang/so-do-to-chuc",
                "/van-ban",
                "/lien-he",
            ),
            category_in_url=None,
        ),
        # -- platforms no shipped profile knows ----------------------------------------------------
        SampleGrammar(
            # SharePoint / ASP.NET portals: the id and the listing's page in query strings.
            "aspx-query",
            "/Pages/ChiTietTin.aspx?ItemID={id}",
            "/Pages/DanhSachTin.aspx?CatID={category_id}",
            "/Pages/DanhSachTin.aspx?CatID={category_id}&Page={page}",
            markup="classic",
            menu=MenuPaths(
                "/Pages/GioiThieu.aspx",
                "/Pages/LichSuPhatTrien.aspx",
                "/Pages/SoDoToChuc.aspx",
                "/Pages/VanBan.aspx",
                "/Pages/LienHe.aspx",
            ),
            category_in_url=None,
            pager=Pager(numbers=False, next_label="Trang sau »", previous_label="« Trang trước"),
        ),
        SampleGrammar(
            # Liferay: the slug is the id; an article has one URL per category's portlet instance.
            "liferay",
            "/-/asset_publisher/{instance}/content/{slug}",
            "/web/guest/{category}",
            "/web/guest/{category}?cur={page}",
            markup="portal",
            menu=MenuPaths(
                "/web/guest/gioi-thieu",  # the listing's shape
                "/web/guest/lich-su-phat-trien",
                "/web/guest/so-do-to-chuc",
                "/web/guest/van-ban",
                "/web/guest/lien-he",
            ),
            category_in_url="instance",
            id_is_slug=True,
            pager=Pager(
                numbers=True,
                next_label="›",
                next_title="Trang sau",
                previous_label="‹",
                first_last=("« Đầu", "Cuối »"),
            ),
        ),
        SampleGrammar(
            "folders",
            "/tin/{id}/",
            "/chuyen-muc/{category_id}/",
            "/chuyen-muc/{category_id}/trang-{page}/",
            markup="portal",
            menu=MenuPaths(
                "/gioi-thieu/", "/lich-su-phat-trien/", "/so-do-to-chuc/", "/van-ban/", "/lien-he/"
            ),
            category_in_url=None,
        ),
        SampleGrammar(
            # Joomla with search-engine-friendly URLs: listings paged by an article offset.
            "joomla-offset",
            "/index.php/{category}/{id}-{slug}",
            "/index.php/{category}",
            "/index.php/{category}?start={offset}",
            markup="classic",
            menu=MenuPaths(
                "/index.php/gioi-thieu",  # the listing's shape
                "/index.php/gioi-thieu/lich-su-phat-trien",
                "/index.php/so-do-to-chuc",
                "/index.php/van-ban",
                "/index.php/lien-he",
            ),
        ),
        SampleGrammar(
            # A hand-written PHP site: one script, pages told apart by their query keys.
            "php-onepath",
            "/news.php?id={id}",
            "/news.php?cat={category_id}",
            "/news.php?cat={category_id}&p={page}",
            markup="classic",
            menu=MenuPaths(
                "/news.php?page=gioi-thieu",  # `page` names a page here, not a number
                "/news.php?page=lich-su",
                "/news.php?page=so-do-to-chuc",
                "/news.php?page=van-ban",
                "/news.php?page=lien-he",
            ),
            category_in_url=None,
            pager=Pager(numbers=False, next_label="Tiếp"),
        ),
    )
}
DEFAULT_GRAMMAR = GRAMMARS["thaibinh"]


def sample_grammar(name: str) -> SampleGrammar:
    """The grammar of that name; ValueError naming the known ones otherwise."""
    if name not in GRAMMARS:
        raise ValueError(f"unknown grammar {name!r}; expected one of {', '.join(sorted(GRAMMARS))}")
    return GRAMMARS[name]
