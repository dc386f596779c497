"""A second test site, written apart from coopspider.sample_site, in another CMS's style.

Discovery must hold on sites nobody here wrote; this one shares no markup, text or URL grammar
with the sample site: slug-only article URLs under one or two levels of categories
(`/tin-tuc/hoat-dong/{slug}.html`, `/chinh-sach/{slug}.html`), listings paged by a relative
`?page=N`, the date printed above the title ("Cập nhật lúc 07:10 ngày 01/06/2023"), a "most read"
box on every page, and a documents section whose pages have the article's URL form but are
official documents, not news.

    with serve_other_cms() as site:
        site.base_url, site.articles, site.document_paths, site.requests
"""

from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

SITE = "Liên minh Hợp tác xã tỉnh Hưng Yên"
PER_PAGE = 8
# (path of the category, menu label): two levels under "Tin tức", one for "Chính sách".
CATEGORIES = [
    ("/tin-tuc/hoat-dong/", "Hoạt động Liên minh"),
    ("/tin-tuc/kinh-te-tap-the/", "Kinh tế tập thể"),
    ("/chinh-sach/", "Chính sách"),
]
_PLACES = ["Văn Lâm", "Mỹ Hào", "Khoái Châu", "Kim Động", "Tiên Lữ", "Phù Cừ", "Ân Thi", "Yên Mỹ"]
_SUBJECTS = [
    "hợp tác xã nông nghiệp {place} mở rộng liên kết tiêu thụ nhãn lồng",
    "tập huấn chuyển đổi số cho cán bộ quản lý hợp tác xã tại {place}",
    "hội nghị sơ kết kinh tế tập thể huyện {place}",
    "hỗ trợ vốn vay cho tổ hợp tác trồng rau an toàn ở {place}",
    "mô hình hợp tác xã dịch vụ môi trường tại {place} đạt hiệu quả",
    "kết nạp thành viên mới của Liên minh tại {place} năm {year}",
]


@dataclass
class OtherArticle:
    """One news article as served; `categories` are category paths, the first canonical."""

    slug: str
    title: str
    date: dt.date
    categories: list[str]
    paragraphs: list[str]
    author: str

    def path_in(self, category: str) -> str:
        return f"{category}{self.slug}.html"

    @property
    def paths(self) -> list[str]:
        return [self.path_in(category) for category in self.categories]


@dataclass
class OtherCms:
    """The site's data and its server."""

    articles: list[OtherArticle]
    documents: list[tuple[str, str, dt.date]]  # (slug, title, issue date)
    base_url: str = ""
    requests: list[str] = field(default_factory=list)

    @property
    def document_paths(self) -> list[str]:
        return [f"/van-ban/{slug}.html" for slug, _, _ in self.documents]

    def listed(self, category: str) -> list[OtherArticle]:
        found = [a for a in self.articles if category in a.categories]
        return sorted(found, key=lambda a: (a.date, a.slug), reverse=True)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def build_other_cms(count: int = 36) -> OtherCms:
    articles = []
    start = dt.date(2024, 1, 8)
    for number in range(count):
        place = _PLACES[number % len(_PLACES)]
        subject = _SUBJECTS[number % len(_SUBJECTS)].format(place=place, year=2023 + number % 3)
        title = subject[0].upper() + subject[1:]
        category = CATEGORIES[number % 3][0]
        categories = [category, "/chinh-sach/"] if number % 11 == 5 else [category]
        paragraphs = [
            f"Ngày {start.day + number % 20}/{1 + number % 12}, tại huyện {place}, Liên minh Hợp "
            f"tác xã tỉnh phối hợp với các đơn vị tổ chức hoạt động số {number + 1} trong năm.",
            "Theo báo cáo, các hợp tác xã trên địa bàn đã chủ động đổi mới phương thức sản xuất, "
            "liên kết với doanh nghiệp để bao tiêu sản phẩm, nâng cao thu nhập cho thành viên.",
            "Lãnh đạo Liên minh đề nghị các địa phương tiếp tục quan tâm, tạo điều kiện để kinh tế "
            f"tập thể phát triển bền vững; đặc biệt là ở {place} và các huyện lân cận.",
        ]
        articles.append(
            OtherArticle(
                _slug(title) + (f"-{number}" if number >= len(_SUBJECTS) * 2 else ""),
                title,
                start + dt.timedelta(days=7 * number),
                categories,
                paragraphs,
                ["Minh Anh", "Thu Hằng", "Quang Huy"][number % 3],
            )
        )
    documents = [
        (f"quyet-dinh-so-{n}-qd-lmhtx", f"Quyết định số {n}/QĐ-LMHTX về việc ban hành quy chế",
         dt.date(2023, n, 10))
        for n in range(1, 7)
    ]  # fmt: skip
    return OtherCms(articles, documents)


# -- pages ---------------------------------------------------------------------------------------


def _menu() -> str:
    news = "".join(f'<li><a href="{path}">{escape(label)}</a></li>' for path, label in CATEGORIES)
    return (
        '<div id="menu"><ul><li><a href="/">Trang chủ</a></li>'
        '<li><a href="/gioi-thieu.html">Giới thiệu</a></li>'
        f'<li><span>Tin tức</span><ul class="sub">{news}</ul></li>'
        '<li><a href="/van-ban/">Văn bản</a></li><li><a href="/lien-he.html">Liên hệ</a></li>'
        "</ul></div>"
    )


def _page(site: OtherCms, title: str, main: str) -> str:
    most_read = "".join(
        f'<li><a href="{a.paths[0]}">{escape(a.title)}</a></li>' for a in site.articles[3:8]
    )
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}'
        f' - {SITE}</title></head><body><div id="wrapper"><div class="top"><a href="/">'
        f'<img src="/logo.png" alt="{SITE}"></a></div>{_menu()}<div id="content">'
        f'<div class="col-left">{main}</div><div class="col-right"><div class="box">'
        f'<h3>Tin xem nhiều</h3><ul>{most_read}</ul></div><div class="box"><h3>Thống kê truy '
        "cập</h3><p>Đang online: 12</p><p>Tổng lượt truy cập: 1.234.567</p></div></div></div>"
        f'<div id="footer">{SITE} - Số 2 đường Chùa Chuông, TP Hưng Yên</div></div></body></html>'
    )


def _home(site: OtherCms) -> str:
    latest = sorted(site.articles, key=lambda a: (a.date, a.slug), reverse=True)
    slider = "".join(
        f'<a href="{a.paths[0]}"><img src="/anh/{a.slug}.jpg" alt="{escape(a.title)}"></a>'
        for a in latest[:3]
    )
    news = "".join(
        f'<li><a href="{a.paths[0]}">{escape(a.title)}</a> <i>{a.date:%d/%m/%Y}</i></li>'
        for a in latest[3:13]
    )
    boxes = "".join(
        f'<div class="cat"><h3><a href="{path}">{escape(label)}</a></h3><ul>'
        + "".join(
            f'<li><a href="{a.path_in(path)}">{escape(a.title)}</a></li>'
            for a in site.listed(path)[:3]
        )
        + "</ul></div>"
        for path, label in CATEGORIES
    )
    return _page(site, "Trang chủ", f'<div class="slider">{slider}</div><h3>Tin mới</h3>'
                 f"<ul>{news}</ul>{boxes}")  # fmt: skip


def _listing(site: OtherCms, path: str, label: str, page: int) -> str | None:
    listed = site.listed(path)
    pages = max(1, -(-len(listed) // PER_PAGE))
    if page > pages:
        return None
    items = "".join(
        f'<div class="item"><a href="{a.path_in(path)}"><img src="/anh/{a.slug}.jpg" alt=""></a>'
        f'<h3><a href="{a.path_in(path)}">{escape(a.title)}</a></h3>'
        f'<p class="date">{a.date:%d/%m/%Y}</p><p>{escape(a.paragraphs[0])}</p></div>'
        for a in listed[(page - 1) * PER_PAGE : page * PER_PAGE]
    )
    pager = "".join(
        f"<b>{n}</b>" if n == page else f'<a href="?page={n}">{n}</a>' for n in range(1, pages + 1)
    )
    if page < pages:
        pager += f'<a href="?page={page + 1}">»</a>'
    return _page(site, label, f'<h1>{escape(label)}</h1>{items}<div class="paging">{pager}</div>')


def _article(site: OtherCms, article: OtherArticle, category: str) -> str:
    label = dict(CATEGORIES)[category]
    others = [a for a in site.listed(category) if a is not article][:5]
    related = "".join(
        f'<li><a href="{a.path_in(category)}">{escape(a.title)}</a> ({a.date:%d/%m/%Y})</li>'
        for a in others
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs[1:])
    main = (
        f'<div class="crumbs"><a href="/">Trang chủ</a> / <a href="{category}">{escape(label)}'
        f'</a></div><div class="detail"><p class="time">Cập nhật lúc 07:10 ngày '
        f'{article.date:%d/%m/%Y}</p><h2 class="title">{escape(article.title)}</h2>'
        f'<div class="sapo"><b>{escape(article.paragraphs[0])}</b></div><div class="content">'
        f'{body}<p style="text-align:right"><b>{escape(article.author)}</b></p></div></div>'
        f'<div class="other"><h3>Tin cùng chuyên mục</h3><ul>{related}</ul></div>'
    )
    return _page(site, article.title, main)


def _documents(site: OtherCms) -> str:
    rows = "".join(
        f'<tr><td><a href="/van-ban/{slug}.html">{escape(title)}</a></td>'
        f"<td>{issued:%d/%m/%Y}</td></tr>"
        for slug, title, issued in site.documents
    )
    return _page(site, "Văn bản", f"<h1>Văn bản</h1><table>{rows}</table>")


def _document(site: OtherCms, slug: str, title: str, issued: dt.date) -> str:
    main = (
        f'<div class="detail"><h2 class="title">{escape(title)}</h2><table>'
        f"<tr><td>Số hiệu</td><td>{slug.split('-')[3]}/QĐ-LMHTX</td></tr>"
        f"<tr><td>Ngày ban hành</td><td>{issued:%d/%m/%Y}</td></tr>"
        "<tr><td>Trích yếu</td><td>Ban hành quy chế làm việc</td></tr></table>"
        f'<p><a href="/files/{slug}.pdf">Tải về</a></p></div>'
    )
    return _page(site, title, main)


def _static(site: OtherCms, title: str) -> str:
    text = "Liên minh Hợp tác xã tỉnh là tổ chức kinh tế - xã hội của các hợp tác xã trong tỉnh."
    return _page(site, title, f"<h1>{title}</h1><p>{text}</p>")


def render(site: OtherCms, target: str) -> tuple[int, bytes]:
    parts = urlsplit(target)
    path = unquote(parts.path)
    page = int((parse_qs(parts.query).get("page") or ["1"])[0] or 1)
    html: str | None = None
    if path == "/":
        html = _home(site)
    elif path == "/robots.txt":
        return 200, b"User-agent: *\nDisallow: /quan-tri/\n"
    elif path in ("/gioi-thieu.html", "/lien-he.html"):
        html = _static(site, "Giới thiệu" if "gioi" in path else "Liên hệ")
    elif path == "/van-ban/":
        html = _documents(site)
    elif path.startswith("/van-ban/"):
        doc = next((d for d in site.documents if f"/van-ban/{d[0]}.html" == path), None)
        html = _document(site, *doc) if doc else None
    elif path in dict(CATEGORIES):
        html = _listing(site, path, dict(CATEGORIES)[path], page)
    else:
        for article in site.articles:
            for category in article.categories:
                if article.path_in(category) == path:
                    html = _article(site, article, category)
    if html is None:
        return 404, b"<html><body><h1>404</h1></body></html>"
    return 200, html.encode("utf-8")


@contextmanager
def serve_other_cms(count: int = 36) -> Iterator[OtherCms]:
    site = build_other_cms(count)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            status, content = render(site, self.path)
            kind = "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
