"""Request path -> response: the site's URL grammar, robots.txt, tiny images and PDFs, 404s."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import unicodedata
import zlib
from typing import TYPE_CHECKING

from coopspider.sample_site import texts
from coopspider.sample_site.classic import ClassicMarkup
from coopspider.sample_site.common import VIETNAM, Context, esc
from coopspider.sample_site.portal import PortalMarkup
from coopspider.sample_site.routing import split_url

if TYPE_CHECKING:
    from coopspider.sample_site.model import SampleSite

HTML = "text/html; charset=utf-8"
ROBOTS_TXT = "User-agent: *\nDisallow: /admin/\n"


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
PDF = "application/pdf"


def _pdf(text: str) -> bytes:
    """A one-page PDF 1.4 printing `text` (accents dropped), with a correct cross-reference
    table."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    line = "".join(c for c in decomposed if c.isascii())
    line = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 12 Tf 56 780 Td ({line}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# The documents page's PDFs: path -> file.
DOCUMENT_FILES = {
    document.path: _pdf(f"{document.kind} {document.number} - {document.issued}")
    for document in texts.DOCUMENTS
}


def render(site: SampleSite, url: str, base_url: str | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) for a request path (with its query, read as a server reads
    it: see sample_site.routing) on the site as it is now."""
    path, _ = split_url(url)
    now = site.clock or dt.datetime.now(VIETNAM)
    data = site.snapshot()
    ctx = Context(site, base_url, now, data)
    markup = PortalMarkup(ctx) if site.markup == "portal" else ClassicMarkup(ctx)

    if path == "/robots.txt":
        return 200, "text/plain; charset=utf-8", ROBOTS_TXT.encode()
    if path in DOCUMENT_FILES:
        return 200, PDF, DOCUMENT_FILES[path]
    if path.startswith(("/Uploads/", "/Images/")):
        image = IMAGES.get(path[path.rfind(".") :].lower())
        if image:
            return 200, image[0], image[1]
    if path.startswith("/admin/"):
        return 200, HTML, _admin_page().encode()
    if path == "/":
        return 200, HTML, markup.home().encode()
    if route := data.routes.get(url):
        category, target = route
        if isinstance(target, int):
            return 200, HTML, markup.listing(category, target).encode()
        return 200, HTML, markup.article(target, category).encode()
    if kind := data.menu_pages.get(url):
        return 200, HTML, markup.menu_page(kind).encode()
    return 404, HTML, _not_found_page(site.name).encode()


def entity_tag(site: SampleSite, url: str) -> str | None:
    """A strong ETag for the article at `url` (a path with its query), None for any other page.

    Like a CMS that tags a page by its article's stored content, it changes exactly when the
    article is edited, never with the clock, counter, ticker or view count around it.
    """
    route = site.snapshot().routes.get(url)
    if not route or isinstance(route[1], int):
        return None
    article = route[1]
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
