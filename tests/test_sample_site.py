"""The sample site: URL grammar, duplicates, pagination, ground truth in both markups, scale."""

from __future__ import annotations

import dataclasses
import html
import re
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from coopspider.sample_site import SampleServer, build_site, serve, slugify
from coopspider.sample_site.generator import load_seed_article

MARKUPS = ["portal", "classic"]
GRAMMAR = [
    re.compile(r"/"),
    re.compile(r"/[a-z0-9-]+-\d+\.html"),  # category first page (or a static page shaped like one)
    re.compile(r"/[a-z0-9-]+/page-\d+\.htm"),
    re.compile(r"/[a-z0-9-]+/[a-z0-9-]*-\d+\.html"),
    re.compile(r"/lien-he\.html"),
    re.compile(r"/admin/.*"),
]
ARTICLE = re.compile(r"/(?P<category>[a-z0-9-]+)/(?P<slug>[a-z0-9-]*)-(?P<id>\d+)\.html")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, str]] = []  # (href, link text)
        self._open: list[str] | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and (href := dict(attrs).get("href")):
            self._href, self._open = href, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.hrefs.append((self._href, "".join(self._open).strip()))
            self._open = None


def links(page: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.hrefs


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def get_text(url: str) -> str:
    status, _, body = fetch(url)
    assert status == 200, url
    return body.decode("utf-8")


def plain(page: str) -> str:
    """Page text as an extractor would normalise it: entities decoded, NFC."""
    return unicodedata.normalize("NFC", html.unescape(page))


def same_site_path(href: str, page_url: str, server: SampleServer) -> str | None:
    """Path of a link on the served site, whichever scheme it names; None if off-site."""
    if href.startswith(("javascript:", "mailto:", "#")):
        return None
    parts = urlsplit(urljoin(page_url, href))
    if parts.netloc != urlsplit(server.base_url).netloc:
        return None
    return parts.path


@pytest.fixture(scope="module", params=MARKUPS)
def server(request: pytest.FixtureRequest) -> Iterator[SampleServer]:
    with serve(build_site(markup=request.param)) as running:
        yield running


def test_default_site_shape() -> None:
    site = build_site()
    assert len(site.articles) >= 24
    assert len(site.categories) >= 2
    assert max(c.pages for c in site.categories) >= 3
    assert len({a.article_id for a in site.articles}) == len(site.articles)
    for article in site.articles:
        assert 2023 <= article.date.year <= 2024
        assert article.date_raw in (
            f"Ngày: {article.date:%d/%m/%Y}",
            f"Ngày cập nhật: {article.date:%d/%m/%Y}",
        )
        assert 3 <= len(article.paragraphs) <= 10
        assert len(article.images) <= 3
        assert article.slug.isascii() and len(article.slug) <= 80
    assert any(a.date_label == "Ngày cập nhật" for a in build_site(articles=200).articles)


def test_build_is_deterministic() -> None:
    first, again, other = build_site(), build_site(), build_site(seed=7)
    assert [dataclasses.asdict(a) for a in first.articles] == [
        dataclasses.asdict(a) for a in again.articles
    ]
    assert [a.title for a in first.articles] != [a.title for a in other.articles]


def test_slugs_are_ascii_and_some_cuts_end_on_a_hyphen() -> None:
    slug = slugify("Đoàn công tác Liên minh HTX tỉnh: học tập!")
    assert slug == "doan-cong-tac-lien-minh-htx-tinh-hoc-tap"
    site = build_site()
    assert any(path.endswith(f"--{a.article_id}.html") for a in site.articles for path in a.paths)


def test_every_link_on_home_and_listings_follows_the_grammar(server: SampleServer) -> None:
    site = server.site
    seen_styles = set()
    for path in ["/", *site.listing_paths()]:
        page_url = urljoin(server.base_url, path)
        for href, _ in links(get_text(page_url)):
            link_path = same_site_path(href, page_url, server)
            if link_path is None:
                continue
            assert any(p.fullmatch(link_path) for p in GRAMMAR), (path, href)
            seen_styles.add(urlsplit(href).scheme or "relative")
    # Relative links, absolute ones in the served scheme, and some in the other scheme.
    assert seen_styles == {"relative", "http", "https"}


def test_home_menu_links_every_category_and_static_pages(server: SampleServer) -> None:
    page_url = server.base_url
    paths = {same_site_path(h, page_url, server) for h, _ in links(get_text(page_url))}
    for category in server.site.categories:
        assert category.path in paths
    assert {"/gioi-thieu-3000.html", "/lien-he.html"} <= paths


def test_duplicates_are_served_under_each_category(server: SampleServer) -> None:
    site = server.site
    duplicated = [a for a in site.articles if len(a.categories) > 1]
    assert duplicated
    for article in duplicated:
        pages = [plain(get_text(urljoin(server.base_url, p))) for p in article.paths]
        assert all(article.title in page for page in pages)
        assert all(article.paragraphs[-1] in page for page in pages)


def test_pagination_reaches_every_article_of_a_category(server: SampleServer) -> None:
    site = server.site
    category = max(site.categories, key=lambda c: c.pages)
    assert category.pages >= 3
    found: set[str] = set()
    visited: set[str] = set()
    queue = [category.path]
    while queue:
        path = queue.pop()
        if path in visited:
            continue
        visited.add(path)
        page_url = urljoin(server.base_url, path)
        for href, text in links(get_text(page_url)):
            link_path = same_site_path(href, page_url, server)
            if link_path is None:
                continue
            if link_path.startswith(f"/{category.slug}/page-") or link_path == category.path:
                queue.append(link_path)
            elif (match := ARTICLE.fullmatch(link_path)) and match["category"] == category.slug:
                found.add(match["id"])
            if text in ("Trang sau", "Cuối"):
                assert link_path.endswith(".htm")
    assert visited == {category.page_path(n) for n in range(1, category.pages + 1)}
    assert found >= {a.article_id for a in site.category_articles(category.slug)}


def test_articles_show_their_ground_truth(server: SampleServer) -> None:
    site = server.site
    for article in site.articles:
        for path in article.paths:
            page = plain(get_text(urljoin(server.base_url, path)))
            assert article.title in page
            assert article.date_raw in page
            for paragraph in article.paragraphs:
                assert paragraph in page
            for image_path, caption in article.images:
                assert f'src="{image_path}"' in page
                assert caption is None or caption in page
            if article.author:
                assert article.author in page
            assert f"Thống kê truy cập:{site.counter_total}" in page
            assert f"Số người trực tuyến: {site.counter_online}" in page
            assert ("Tin liên quan" in page) or ("Các tin khác" in page)


def test_seed_article_is_present(server: SampleServer) -> None:
    seed = load_seed_article()
    article = next(a for a in server.site.articles if a.title == seed["title"])
    assert article.date_raw == "Ngày: 13/07/2023"
    assert article.paragraphs[0].startswith("Sáng ngày 13/7/2023, ")
    assert article.author == "Thùy Dung"
    assert [c for _, c in article.images] == seed["captions"]
    page = plain(get_text(urljoin(server.base_url, article.path)))
    assert "Thống kê truy cập:280451" in page and "Số người trực tuyến: 43" in page
    date_at = page.index("Ngày: 13/07/2023")
    assert page.index(seed["title"]) < date_at < page.index(seed["paragraphs"][1], date_at)


def test_markups_differ() -> None:
    portal, classic = build_site(markup="portal"), build_site(markup="classic")
    path = portal.articles[0].path
    portal_page = portal.render(path)[2].decode()
    classic_page = classic.render(path)[2].decode()
    assert "<h1" in portal_page and "og:title" in portal_page
    assert "<h1" not in classic_page and "og:title" not in classic_page
    assert "<table" in classic_page and "<br />" in classic_page
    assert "TIN MỚI:" in portal_page
    decomposed = next(a for a in classic.articles if int(a.article_id) % 7 == 3)
    page = classic.render(decomposed.path)[2].decode()
    assert decomposed.paragraphs[0] not in page and decomposed.paragraphs[0] in plain(page)
    with pytest.raises(ValueError):
        build_site(markup="nope")


def test_robots_images_and_not_found(server: SampleServer) -> None:
    status, content_type, body = fetch(server.base_url + "robots.txt")
    assert status == 200 and "Disallow: /admin/" in body.decode()
    for name, kind, magic in [
        ("a.jpg", "image/jpeg", b"\xff\xd8"),
        ("b.png", "image/png", b"\x89PNG"),
        ("c.gif", "image/gif", b"GIF89a"),
    ]:
        status, content_type, body = fetch(f"{server.base_url}Uploads/images/2023/07/13/{name}")
        assert (status, content_type) == (200, kind) and body.startswith(magic)
    category = server.site.categories[0]
    for path in ["nope.html", f"{category.slug}/page-99.htm", f"{category.slug}/x-1.html"]:
        status, _, body = fetch(server.base_url + path)
        assert status == 404 and "Không tìm thấy trang" in body.decode()
    assert fetch(server.base_url + "gioi-thieu-3000.html")[0] == 200


def test_request_log_counts_paths() -> None:
    with serve(build_site()) as running:
        fetch(running.base_url)
        fetch(running.base_url + "missing")
        fetch(running.base_url)
        assert running.requests.count("/") == 2
        assert list(running.requests) == ["/", "/missing", "/"]
        assert ("/missing", 404) in running.requests.entries()
        running.requests.clear()
        assert len(running.requests) == 0


def test_a_new_version_of_the_site_is_served() -> None:
    with serve(build_site()) as running:
        version2 = build_site()
        edited, removed = version2.articles[0], version2.articles[1]
        edited.title = "Tiêu đề đã sửa"
        edited.paragraphs.append("Đoạn văn mới được bổ sung.")
        version2.articles.remove(removed)
        version2.counter_total += 1000
        running.site = version2
        page = plain(get_text(urljoin(running.base_url, edited.path)))
        assert "Tiêu đề đã sửa" in page and "Đoạn văn mới được bổ sung." in page
        assert f"Thống kê truy cập:{version2.counter_total}" in page
        assert fetch(urljoin(running.base_url, removed.path))[0] == 404


def test_large_site_builds_and_renders_fast() -> None:
    started = time.perf_counter()
    site = build_site(articles=2000)
    assert time.perf_counter() - started < 5
    assert len(site.articles) == 2000
    category = max(site.categories, key=lambda c: c.pages)
    started = time.perf_counter()
    status, _, listing = site.render(category.page_path(category.pages // 2))
    status2, _, article = site.render(site.articles[1234].path)
    assert time.perf_counter() - started < 1
    assert status == status2 == 200
    assert site.articles[1234].title in plain(article.decode())
    assert listing.decode().count(f'href="/{category.slug}/') >= site.per_page
