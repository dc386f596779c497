"""Request path -> response: the site's URL grammar, robots.txt, tiny images and the 404 page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
import zlib
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from coopspider.sample_site import texts
from coopspider.sample_site.classic import ClassicMarkup
from coopspider.sample_site.common import VIETNAM, Context, esc
from coopspider.sample_site.portal import PortalMarkup

if TYPE_CHECKING:
    from coopspider.sample_site.model import SampleSite

HTML = "text/html; charset=utf-8"
ROBOTS_TXT = "User-agent: *\nDisallow: /admin/\n"

_FIRST_PAGE = re.compile(r"/(?P<category>[a-z0-9-]+)-(?P<id>\d+)\.html")
_PAGE_N = re.compile(r"/(?P<category>[a-z0-9-]+)/page-(?P<page>\d+)\.htm")
_ARTICLE = re.compile(r"/(?P<category>[a-z0-9-]+)/(?P<slug>[a-z0-9-]*)-(?P<id>\d+)\.html")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _jpeg() -> bytes:
    # A 1x1 grey baseline JPEG: one block whose only symbols are "DC difference 0" and "end of
    # block", each given the one-bit Huffman code 0; the scan is those two bits padded with ones.
    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    quant = segment(0xDB, b"\x00" + b"\x01" * 64)
    frame = segment(0xC0, bytes([8, 0, 1, 0, 1, 1, 1, 0x11, 0]))
    one_code = bytes([1] + [0] * 15)
    dc = segment(0xC4, b"\x00" + one_code + b"\x00")
    ac = segment(0xC4, b"\x10" + one_code + b"\x00")
    scan = segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    return b"\xff\xd8" + quant + frame + dc + ac + scan + b"\x3f" + b"\xff\xd9"


_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
IMAGES = {
    ".gif": ("image/gif", _GIF),
    ".png": ("image/png", _png()),
    ".jpg": ("image/jpeg", _jpeg()),
    ".jpeg": ("image/jpeg", _jpeg()),
}


def render(site: SampleSite, path: str, base_url: str | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) for `path` (query string ignored) on the site as it is now."""
    path = unquote(urlsplit(path).path) or "/"
    now = site.clock or dt.datetime.now(VIETNAM)
    data = site.snapshot()
    ctx = Context(site, base_url, now, data)
    markup = PortalMarkup(ctx) if site.markup == "portal" else ClassicMarkup(ctx)

    if path == "/robots.txt":
        return 200, "text/plain; charset=utf-8", ROBOTS_TXT.encode()
    if path.startswith(("/Uploads/", "/Images/")):
        image = IMAGES.get(path[path.rfind(".") :].lower())
        if image:
            return 200, image[0], image[1]
    if path.startswith("/admin/"):
        return 200, HTML, _admin_page().encode()
    if path == "/":
        return 200, HTML, markup.home().encode()
    if path in texts.STATIC_PAGES:
        return 200, HTML, markup.static(path).encode()
    if match := _FIRST_PAGE.fullmatch(path):
        category = data.categories.get(match["category"])
        if category and category.category_id == match["id"]:
            return 200, HTML, markup.listing(category, 1).encode()
    if match := _PAGE_N.fullmatch(path):
        category = data.categories.get(match["category"])
        if category and 2 <= int(match["page"]) <= category.pages:
            return 200, HTML, markup.listing(category, int(match["page"])).encode()
    if match := _ARTICLE.fullmatch(path):
        article = data.by_id.get(match["id"])
        category = data.categories.get(match["category"])
        if (
            article
            and category
            and category.slug in article.categories
            and article.slug == match["slug"]
        ):
            return 200, HTML, markup.article(article, category).encode()
    return 404, HTML, _not_found_page(site.name).encode()


def entity_tag(site: SampleSite, path: str) -> str | None:
    """A strong ETag for the article at `path`, None for any other path.

    Like a CMS that tags a page by its article's stored content, it changes exactly when the
    article is edited, never with the clock, counter, ticker or view count around it.
    """
    match = _ARTICLE.fullmatch(unquote(urlsplit(path).path))
    article = site.snapshot().by_id.get(match["id"]) if match else None
    if article is None:
        return None
    content = repr(
        (
            article.title,
            article.date,
            article.date_label,
            article.author,
            article.paragraphs,
            article.images,
            site.markup,
        )
    )
    return '"' + hashlib.sha256(content.encode("utf-8")).hexdigest()[:32] + '"'


def _not_found_page(site_name: str) -> str:
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Không tìm thấy trang | {esc(site_name)}</title></head><body>"
        "<h1>Không tìm thấy trang</h1>"
        "<p>Trang bạn yêu cầu không tồn tại hoặc đã bị xóa.</p>"
        '<p><a href="/">Quay về Trang chủ</a></p></body></html>'
    )


def _admin_page() -> str:
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        "<title>Đăng nhập quản trị</title></head><body>"
        '<form method="post"><label>Tên đăng nhập <input name="user"></label>'
        '<label>Mật khẩu <input type="password" name="password"></label>'
        '<button type="submit">Đăng nhập</button></form></body></html>'
    )
