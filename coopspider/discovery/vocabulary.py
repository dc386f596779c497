"""Words and thresholds discovery reads a site by: every knob in one place.

Words are folded (no accents, lower case; see coopspider.text.fold_keeping_offsets) and matched
as whole words.
"""

from __future__ import annotations

from dataclasses import dataclass

# Query keys that say nothing about which page a link is (tracking, sessions, back links).
IGNORED_QUERY_KEYS = frozenset(
    {
        "fbclid", "gclid", "ref", "redirect", "redirecturl", "returnurl", "return",
        "inheritredirect", "_ga", "sessionid", "sid", "phpsessid", "jsessionid",
    }
)  # fmt: skip

# Links to files, never pages: their URLs are not learned from.
FILE_EXTENSIONS = frozenset(
    {
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "zip", "rar", "7z",
        "jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico", "tif", "tiff", "mp3", "mp4",
        "avi", "wmv", "flv", "swf", "css", "js", "xml", "rss", "json", "txt", "csv",
    }
)  # fmt: skip

# A pager's link to the next page, by its text or title.
NEXT_PAGE_WORDS = (
    "trang sau", "trang tiep", "trang tiep theo", "tiep", "tiep theo", "ke tiep", "sau",
    "next", "»", "›", ">", ">>", "→", "trang ke",
)  # fmt: skip
# Pager links that are not the next page.
OTHER_PAGER_WORDS = (
    "dau", "trang dau", "cuoi", "trang cuoi", "truoc", "trang truoc", "first", "last", "prev",
    "previous", "«", "‹", "<", "<<", "←",
)  # fmt: skip

# A link to the rest of a news block: it points at a category listing.
MORE_WORDS = ("xem them", "xem tiep", "xem tat ca", "tat ca", "xem toan bo", "more")
# Words of news category names in a menu.
NEWS_WORDS = (
    "tin", "tin tuc", "su kien", "hoat dong", "thong bao", "chinh sach", "ban tin", "thoi su",
    "kinh te", "hop tac xa", "htx", "nong nghiep", "chuyen de", "phong trao", "dien hinh",
    "thi dua", "ho tro", "tuyen truyen", "dau tu", "news", "tong hop", "dia phuong",
)  # fmt: skip
# Words of menu entries that lead to pages that are not news.
NOT_NEWS_WORDS = (
    "gioi thieu", "lien he", "so do", "co cau to chuc", "bo may to chuc", "van ban",
    "tai lieu", "lich su",
    "hoi dap", "thu vien", "hinh anh", "video", "album", "dang nhap", "dang ky", "sitemap",
    "rss", "english", "trang chu", "lanh dao", "chuc nang", "nhiem vu", "ban do", "lich cong tac",
    "danh ba", "gop y", "tuyen dung", "home", "contact", "about", "login", "download",
    "thu tuc", "bieu mau", "quy che", "dieu le",
)  # fmt: skip


@dataclass(frozen=True)
class DiscoverySettings:
    """How much discovery fetches and what it takes as proof."""

    max_requests: int = 40  # every HTTP request, robots.txt and retries included
    first_listings: int = 2  # listing candidates read before the first article samples
    most_listings_tried: int = 6  # listing candidates read at most, to find one that lists
    article_families_tried: int = 3  # link families sampled as possible articles
    samples_per_family: int = 2  # pages read of each possible article family first
    articles_to_verify: int = 5  # articles that must read (title, date, body) for success
    min_family_links: int = 3  # distinct links a family needs to be taken for articles
    min_headline_words: float = 4  # median words of the link texts of an article family
    menu_words: int = 8  # a menu entry's text has at most this many words
    menu_name_words: int = 4  # a menu page named like "Giới thiệu" has at most this many
    listed_articles: int = 3  # article links a listing shows besides the site-wide ones
    sitewide_share: float = 0.6  # a link on this share of pages (of 3 or more) is site-wide
    min_body_chars: int = 100  # an article's text is at least this long
    category_agreement: float = 0.8  # share of a listing's articles whose URL names its category
    pages_deep: int = 3  # listing pages followed (1 is the first page)
    links_per_page: int = 2000  # links read of one page, in page order (a trap may hold more)


DEFAULT_SETTINGS = DiscoverySettings()
