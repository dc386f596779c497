"""The sample site: URL grammars, duplicates, pagination, menu pages, query strings, ground truth
in both markups, scale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import time
import unicodedata
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from coopspider.profiles import builtin_profiles
from coopspider.sample_site import (
    SampleCategory,
    SampleServer,
    SampleSite,
    build_site,
    serve,
    slugify,
)
from coopspider.sample_site.common import ADMIN_PATH, VIETNAM
from coopspider.sample_site.generator import load_seed_article
from coopspider.sample_site.grammars import GRAMMARS, instance_token
from coopspider.sample_site.texts import DOCUMENTS

MARKUPS = ["portal", "classic"]
GRAMMAR = [
    re.compile(r"/"),
    re.compile(r"/[a-z0-9-]+-\d+\.html"),  # category first page (or a static page shaped like one)
    re.compile(r"/[a-z0-9-]+/page-\d+\.htm"),
    re.compile(r"/[a-z0-9-]+/[a-z0-9-]*-\d+\.html"),
    re.compile(r"/[a-z-]+\.html"),  # contact, organisation chart, documents
    re.compile(r"/admin/.*"),
]
NEW_GRAMMARS = sorted(set(GRAMMARS) - set(builtin_profiles()))
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


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    # Paths such as kontum's carry Vietnamese letters: percent-encode them as a browser does.
    request = urllib.request.Request(quote(url, safe=":/?&=%#+;,"), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
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
    """Path (and query) of a link on the served site, whichever scheme it names; None if
    off-site. The path is percent-decoded, as the ground truth writes it."""
    if href.startswith(("javascript:", "mailto:", "#")):
        return None
    parts = urlsplit(urljoin(page_url, href))
    if parts.netloc != urlsplit(server.base_url).netloc:
        return None
    return unquote(parts.path) + (f"?{parts.query}" if parts.query else "")


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
    assert set(server.site.menu_page_paths()) <= paths


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


def test_latency_delays_each_answer_and_concurrent_answers_overlap() -> None:
    with serve(build_site(articles=6), latency=0.1) as running:
        started = time.monotonic()
        assert fetch(running.base_url)[0] == 200
        assert time.monotonic() - started >= 0.1
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(fetch, [running.base_url + "robots.txt"] * 4))
        took = time.monotonic() - started
        assert statuses and all(status == 200 for status, _, _ in statuses)
        assert 0.1 <= took < 0.3, f"4 concurrent answers took {took:.2f} s"


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


@pytest.mark.slow
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


# -- every grammar: what a crawler or `discover` meets ---------------------------------------------


@dataclasses.dataclass
class Walk:
    """What a breadth-first walk over a served site's `<a href>` links met."""

    answers: dict[str, tuple[int, str]]  # path (with query) -> (status, content type)
    schemes: dict[str, set[str]]  # path -> how links wrote it: "relative", "http", "https"


def walk(server: SampleServer) -> Walk:
    """Breadth-first from `/` over the links of every HTML page, on this host in either scheme,
    each path fetched once by real HTTP."""
    base = server.base_url.rstrip("/")
    answers: dict[str, tuple[int, str]] = {}
    schemes: dict[str, set[str]] = {"/": {"relative"}}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        status, content_type, body = fetch(base + path)
        answers[path] = (status, content_type)
        if status != 200 or not content_type.startswith("text/html"):
            continue
        for href, _ in links(body.decode("utf-8")):
            target = same_site_path(href, base + path, server)
            if target is None:
                continue
            if target not in schemes:
                queue.append(target)
            schemes.setdefault(target, set()).add(urlsplit(href).scheme or "relative")
    return Walk(answers, schemes)


@pytest.mark.parametrize("grammar", sorted(GRAMMARS))
@pytest.mark.slow
def test_a_walk_from_the_home_page_reaches_every_page_and_nothing_else(grammar: str) -> None:
    site = build_site(grammar=grammar)
    with serve(site) as server:
        walked = walk(server)
    articles, listings = set(site.article_paths()), set(site.listing_paths())
    menu, pdfs = set(site.menu_page_paths()), set(site.pdf_paths())
    assert len(menu) == 5 and len(pdfs) == len(DOCUMENTS)
    assert set(walked.answers) == {"/", ADMIN_PATH} | articles | listings | menu | pdfs
    assert {status for status, _ in walked.answers.values()} == {200}
    assert {walked.answers[path][1] for path in pdfs} == {"application/pdf"}
    assert {kind for path, (_, kind) in walked.answers.items() if path not in pdfs} == {
        "text/html; charset=utf-8"
    }
    assert max(c.pages for c in site.categories) >= 3
    # Every article path leads to its article, whichever category and scheme a link names.
    routes = site.snapshot().routes
    assert {routes[path][1].key for path in articles} == site.article_keys()
    assert len(site.article_keys()) == len(site.articles)
    assert set().union(*(walked.schemes[path] for path in articles)) == {
        "relative",
        "http",
        "https",
    }
    # The menu's pages are neither articles nor listings, wherever their URLs look like them.
    assert not any(path in routes for path in menu)


def test_new_grammars_article_urls_match_no_shipped_profile() -> None:
    assert len(NEW_GRAMMARS) >= 5
    profiles = builtin_profiles()
    for grammar in NEW_GRAMMARS:
        site = build_site(grammar=grammar)
        for path in site.article_paths():
            # As UrlGrammar reads them: the decoded path, and the path with its query.
            candidates = {unquote(urlsplit(path).path), unquote(path)}
            for name, profile in profiles.items():
                for pattern in profile.grammar.article:
                    assert not any(pattern.fullmatch(c) for c in candidates), (grammar, name, path)


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_menu_pages_are_never_articles_to_a_shipped_profile(name: str) -> None:
    profile = builtin_profiles()[name]
    for path in build_site(grammar=name).menu_page_paths():
        assert profile.classify(path).kind.value != "article", path


@pytest.mark.parametrize("grammar", sorted(GRAMMARS))
def test_query_strings_are_read_in_any_order_and_extra_keys_ignored(grammar: str) -> None:
    site = build_site(grammar=grammar)
    site.clock = dt.datetime(2024, 12, 30, 8, 15, tzinfo=VIETNAM)
    paths = [*site.listing_paths(), *site.article_paths(), *site.menu_page_paths()]
    for path in paths:
        page = site.render(path)
        assert page[0] == 200, path
        path_only, _, query = path.partition("?")
        params = query.split("&") if query else []
        tracking = ["utm_source=zalo", "fbclid=IwAR0x"]
        for variant in (params[::-1] + tracking, tracking + params[::-1], tracking[:1] + params):
            assert site.render(f"{path_only}?{'&'.join(variant)}") == page, variant
    category = max(site.categories, key=lambda c: c.pages)
    beyond = category.page_path(category.pages + 1)
    assert site.render(beyond)[0] == 404, beyond
    # Page 1 in the later pages' form answers like the first page, though no link uses it.
    alias = GRAMMARS[grammar].first_page_alias(
        category=category.slug, category_id=category.category_id
    )
    assert alias is None or site.render(alias) == site.render(category.path)


def test_query_urls_over_http_with_their_etags() -> None:
    site = build_site(grammar="aspx-query")
    with serve(site) as server:
        base = server.base_url.rstrip("/")
        article = site.articles[5]
        variant = f"/Pages/ChiTietTin.aspx?utm_source=facebook&ItemID={article.article_id}"
        with urllib.request.urlopen(base + article.path, timeout=10) as response:
            tag = response.headers["ETag"]
        with urllib.request.urlopen(base + variant, timeout=10) as response:
            assert response.headers["ETag"] == tag
            assert article.title in plain(response.read().decode())
        assert fetch(base + variant, {"If-None-Match": tag})[0] == 304
        assert fetch(base + "/Pages/ChiTietTin.aspx?ItemID=1")[0] == 404
        category = site.categories[0]
        reordered = f"/Pages/DanhSachTin.aspx?Page=2&CatID={category.category_id}"
        page2 = fetch(base + reordered)
        assert page2[0] == 200 and "ETag" not in page2
        titles = [a.title for a in site.category_articles(category.slug)]
        assert titles[site.per_page] in plain(page2[2].decode())


@pytest.mark.parametrize("grammar", ["aspx-query", "php-onepath", "kiengiang"])
def test_ampersands_in_links_are_escaped(grammar: str) -> None:
    site = build_site(grammar=grammar)
    category = max(site.categories, key=lambda c: c.pages)
    page = site.render(category.page_path(2))[2].decode()
    for target in (category.page_path(3), *site.menu_page_paths()):
        if "&" in target:
            assert f'href="{html.escape(target)}"' in page and target not in page
    assert "&" not in re.sub(r"&(amp|raquo|copy|nbsp|#\d+);", "", page)


def listing_link_labels(site: SampleSite, category: SampleCategory, page: int) -> list[str]:
    """Texts of the links on listing page `page` that lead to the category's listing pages,
    the menu's and breadcrumb's category-name links left out."""
    routes = site.snapshot().routes
    labels = []
    body = site.render(category.page_path(page), "http://127.0.0.1:1/")[2].decode()
    for href, text in links(body):
        path = urlsplit(href)._replace(scheme="", netloc="").geturl()
        target = routes.get(unquote(path))
        if (
            target
            and target[0] == category
            and isinstance(target[1], int)
            and text.casefold() not in (category.name.casefold(), "xem thêm")
        ):
            labels.append(text)
    return labels


@pytest.mark.parametrize("markup", MARKUPS)
@pytest.mark.parametrize(
    ("grammar", "numbered", "steps"),
    [
        ("aspx-query", False, {"« Trang trước", "Trang sau »"}),
        ("php-onepath", False, {"Tiếp"}),
        ("liferay", True, {"« Đầu", "‹", "›", "Cuối »"}),
        ("folders", True, None),  # the markup's own pager
        ("joomla-offset", True, None),
    ],
)
def test_pagers_differ_between_grammars(
    grammar: str, numbered: bool, steps: set[str] | None, markup: str
) -> None:
    site = build_site(grammar=grammar, markup=markup)
    category = max(site.categories, key=lambda c: c.pages)
    assert category.pages >= 3
    labels = listing_link_labels(site, category, 2)
    assert any(label.isdigit() for label in labels) is numbered
    if steps:
        assert {label for label in labels if not label.isdigit()} == steps
    if grammar == "liferay":
        body = site.render(category.page_path(2))[2].decode()
        assert 'title="Trang sau"' in body
    # The last page links nowhere further.
    assert not {"Trang sau »", "Tiếp", "›", "Trang sau"} & set(
        listing_link_labels(site, category, category.pages)
    )


def test_liferay_article_under_two_categories_has_two_urls_one_slug() -> None:
    site = build_site(grammar="liferay")
    article = next(a for a in site.articles if len(a.categories) > 1)
    first, second = article.paths
    tokens = [
        re.fullmatch(r"/-/asset_publisher/([A-Za-z0-9]+)/content/(.+)", p) for p in (first, second)
    ]
    assert all(tokens) and tokens[0][1] != tokens[1][1] and tokens[0][2] == tokens[1][2]
    assert [instance_token(c) for c in article.categories] == [t[1] for t in tokens]
    assert article.key == article.slug
    for path in article.paths:
        assert article.title in plain(site.render(path)[2].decode())


def test_joomla_pages_by_article_offset() -> None:
    site = build_site(grammar="joomla-offset", per_page=5)
    category = max(site.categories, key=lambda c: c.pages)
    assert category.path == f"/index.php/{category.slug}"
    assert category.page_path(3) == f"/index.php/{category.slug}?start=10"
    page3 = plain(site.render(category.page_path(3))[2].decode())
    assert site.category_articles(category.slug)[10].title in page3


@pytest.mark.parametrize("markup", MARKUPS)
def test_documents_page_lists_pdfs_with_numbers_and_issue_dates(markup: str) -> None:
    site = build_site(grammar="folders", markup=markup)
    page = plain(site.render("/van-ban/")[2].decode())
    for document in DOCUMENTS:
        assert document.number in page and document.issued in page and document.summary in page
        assert f'href="{document.path}"' in page
        status, content_type, pdf = site.render(document.path)
        assert (status, content_type) == (200, "application/pdf")
        assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
        # The cross-reference table points at each object.
        start = int(pdf.rsplit(b"startxref\n", 1)[1].split()[0])
        offsets = [int(line.split()[0]) for line in pdf[start:].splitlines()[3:8]]
        assert [pdf[at:].split(b"\n", 1)[0] for at in offsets] == [
            b"%d 0 obj" % n for n in range(1, 6)
        ]
    assert site.render("/Uploads/files/van-ban/2024/missing.pdf")[0] == 404
