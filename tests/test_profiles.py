"""Site profiles: the shipped grammars on real URL forms, overrides and their error messages."""

from __future__ import annotations

import dataclasses
import re

import pytest
from scrapy.http import HtmlResponse

from coopspider.pages.article import ArticlePage
from coopspider.pages.listing import ListingPage
from coopspider.profiles import (
    ProfileError,
    builtin_profiles,
    load_profiles,
    profile_from_table,
    resolve_site,
)
from coopspider.urls import LinkKind
from tests.extraction_score import cases, score

# (profile, URL path, kind, category, article id): article forms from the reference table of real
# sites, listing and pagination forms of each platform.
GRAMMAR_CASES = [
    (
        "thaibinh",
        "/tin-tuc-su-kien/hoi-nghi-so-ket-13548.html",
        "article",
        "tin-tuc-su-kien",
        "13548",
    ),
    ("thaibinh", "/tin-tuc-su-kien/page-3.htm", "listing", "tin-tuc-su-kien", None),
    (
        "caobang",
        "/vi/news/tin-tuc-su-kien/htx-ba-do-1420.html",
        "article",
        "tin-tuc-su-kien",
        "1420",
    ),
    ("caobang", "/vi/news/tin-tuc-su-kien/", "listing", "tin-tuc-su-kien", None),
    ("caobang", "/vi/news/tin-tuc-su-kien/page-2/", "listing", "tin-tuc-su-kien", None),
    ("caobang", "/vi/about/gioi-thieu.html", "other", None, None),
    ("daknong", "/2023/05/10/htx-thuan-an/", "article", None, "htx-thuan-an"),
    ("daknong", "/category/tin-tuc/page/4/", "listing", "tin-tuc", None),
    ("daknong", "/wp-content/uploads/2023/05/a.jpg", "other", None, None),
    (
        "kontum",
        "/Tin-t%E1%BB%A9c-S%E1%BB%B1-ki%E1%BB%87n/Tin-ho%E1%BA%A1t-%C4%91%E1%BB%99ng/ItemID/2204/View/Details.aspx",
        "article",
        "Tin-hoạt-động",
        "2204",
    ),
    (
        "kontum",
        "/Tin-tức-Sự-kiện/Tin-hoạt-động/currentpage/2.aspx",
        "listing",
        "Tin-hoạt-động",
        None,
    ),
    ("kiengiang", "/trang/TinTuc/12/3456/HTX-Thanh-Dong-A--.html", "article", "12", "3456"),
    ("kiengiang", "/trang/TinTuc/12/tin-hoat-dong.html?page=2", "listing", "12", None),
    ("camau", "/htx-tom-sinh-thai-tam-giang-dong.2741", "article", None, "2741"),
    ("camau", "/tin-tuc?trang=2", "listing", "tin-tuc", None),
    ("quangtri", "/bai-viet/hoi-nghi-ket-noi-cung-cau-1532", "article", None, "1532"),
    ("quangtri", "/danh-muc/tin-tuc/trang-2", "listing", "tin-tuc", None),
]


def test_builtin_profiles_cover_thaibinh_and_four_other_alliances() -> None:
    profiles = builtin_profiles()
    assert "thaibinh" in profiles and len(profiles) >= 5
    for profile in profiles.values():
        assert profile.base_url.startswith("https://") and profile.platform and profile.title


@pytest.mark.parametrize(("name", "path", "kind", "category", "article_id"), GRAMMAR_CASES)
def test_each_profile_reads_its_platforms_urls(
    name: str, path: str, kind: str, category: str | None, article_id: str | None
) -> None:
    profile = builtin_profiles()[name]
    parsed = profile.classify(profile.base_url.rstrip("/") + path)
    assert (parsed.kind.value, parsed.category, parsed.article_id) == (kind, category, article_id)


def test_page_numbers_are_read_from_paths_and_queries() -> None:
    profiles = builtin_profiles()
    assert profiles["caobang"].classify("/vi/news/tin-tuc/page-7/").page == 7
    assert profiles["kiengiang"].classify("/trang/TinTuc/5/x.html?lang=vi&page=3").page == 3


def test_an_override_changes_a_builtin_site() -> None:
    profiles = load_profiles(
        {
            "thaibinh": {
                "base_url": "https://lienminhhtx.hungyen.gov.vn",
                "skip_categories": ["lich-su-phat-trien"],
                "revisit_days": 3,
                "date_order": "mdy",
            }
        }
    )
    thaibinh = profiles["thaibinh"]
    assert thaibinh.base_url == "https://lienminhhtx.hungyen.gov.vn/"
    assert thaibinh.date_order == "MDY" and thaibinh.revisit_days == 3
    assert not thaibinh.follows_category("lich-su-phat-trien")
    assert thaibinh.follows_category("tin-tuc-su-kien")
    assert builtin_profiles()["thaibinh"].base_url == "https://lienminhhtx.thaibinh.gov.vn/"


def test_a_new_site_starts_from_a_builtin_profile() -> None:
    profiles = load_profiles(
        {"hungyen": {"profile": "caobang", "base_url": "http://x.example/", "categories": ["a"]}}
    )
    site = profiles["hungyen"]
    assert site.name == "hungyen" and site.grammar == builtin_profiles()["caobang"].grammar
    assert site.follows_category("A") and not site.follows_category("b")
    assert site.follows_category(None)
    plain = load_profiles({"hungyen": {"base_url": "http://x.example/"}})["hungyen"]
    assert plain.grammar == builtin_profiles()["thaibinh"].grammar  # the default platform


def test_an_override_can_write_its_own_grammar_and_selectors() -> None:
    site = load_profiles(
        {
            "hungyen": {
                "profile": "caobang",
                "base_url": "https://lmhtx.hungyen.gov.vn/",
                "title": "Liên minh HTX tỉnh Hưng Yên",
                "urls": {"article": [r"/tin/(?P<id>\d+)\.html"], "article_links": "#main"},
                "selectors": {"title": "h1.tieu-de", "body": ""},
                "download_delay": 5,
            }
        }
    )["hungyen"]
    caobang = builtin_profiles()["caobang"]
    assert site.classify("/tin/77.html").article_id == "77"
    assert site.classify("/vi/news/tin-tuc/").kind is LinkKind.LISTING  # caobang listing form
    assert site.grammar.listing == caobang.grammar.listing
    assert site.grammar.article_links == "#main"
    assert site.selectors.items() == [("title", "h1.tieu-de")]
    assert site.download_delay == 5 and site.platform == caobang.platform


def test_a_builtin_site_that_changed_platform_keeps_its_name_and_root() -> None:
    moved = load_profiles({"thaibinh": {"profile": "daknong"}})["thaibinh"]
    thaibinh, daknong = builtin_profiles()["thaibinh"], builtin_profiles()["daknong"]
    assert (moved.name, moved.title, moved.base_url) == (
        "thaibinh",
        thaibinh.title,
        thaibinh.base_url,
    )
    assert moved.grammar == daknong.grammar and moved.platform == daknong.platform


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"thaibinh": {"base_url": "ftp://x"}}, "[sites.thaibinh] base_url: must be an http"),
        ({"thaibinh": {"delay": 3}}, "[sites.thaibinh] delay: unknown key; expected one of"),
        ({"thaibinh": {"date_order": "YMD"}}, "date_order: must be one of DMY, MDY, got 'YMD'"),
        ({"thaibinh": {"categories": "tin-tuc"}}, "categories: must be a list of non-empty"),
        ({"thaibinh": {"revisit_days": -1}}, "revisit_days: must be a whole number of days >= 0"),
        ({"thaibinh": {"revisit_old_days": True}}, "revisit_old_days: must be a whole number"),
        ({"hungyen": {}}, "base_url: is required for the new site 'hungyen'"),
        ({"hungyen": {"profile": "joomla"}}, "unknown profile 'joomla'; known: camau, caobang"),
        ({"hungyen": {"profile": "caobang"}}, "base_url: is required for the new site 'hungyen'"),
        ({"Hung Yen": {}}, "[sites.Hung Yen] name: use lower-case letters"),
        ({"thaibinh": "x"}, "[sites.thaibinh] table: must be a table"),
        ({"thaibinh": {"urls": {"article": ["/(\\d+)"]}}}, "urls.article[0]: '/(\\\\d+)' has no"),
        ({"thaibinh": {"urls": {"next": "a"}}}, "[sites.thaibinh] urls.next: unknown key"),
        ({"thaibinh": {"selectors": {"body": 3}}}, "selectors.body: must be a CSS or XPath"),
    ],
)
def test_bad_overrides_are_reported_precisely(overrides: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)):
        load_profiles(overrides)


def _table(**changes: object) -> dict:
    table = {
        "title": "T",
        "base_url": "https://a.vn/",
        "platform": "P",
        "urls": {"article": [r"/a/(?P<id>\d+)"]},
    }
    table.update(changes)
    return table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_table(urls={"article": ["/a/(\\d+)"]}), "urls.article[0]: '/a/(\\\\d+)' has no (?P<id>"),
        (_table(urls={"article": ["/a/(?P<id>"]}), "urls.article[0]: '/a/(?P<id>' is not a regex"),
        (_table(urls={"listing": ["/c"]}), "urls.article: is required"),
        (_table(urls={"article": [r"(?P<id>\d+)"], "pagination": ["/p"]}), "has no (?P<page>"),
        (_table(selectors={"body": "div[["}), "selectors.body: 'div[[' is not a valid CSS"),
        (_table(selectors={"headline": "h1"}), "selectors.headline: unknown key"),
        (_table(concurrency=0), "concurrency: must be a number >= 1, got 0"),
        (_table(title=""), "title: must be a non-empty string"),
    ],
)
def test_bad_profiles_are_reported_precisely(table: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)) as raised:
        profile_from_table("demo", table, "demo.toml")
    assert str(raised.value).startswith("profile 'demo' (demo.toml): ")


def test_resolving_the_site_of_a_crawl() -> None:
    profiles = load_profiles()
    assert resolve_site(profiles).name == "thaibinh"
    moved = resolve_site(profiles, "kontum", "http://127.0.0.1:8000")
    assert (moved.name, moved.base_url) == ("kontum", "http://127.0.0.1:8000/")
    assert moved.grammar == profiles["kontum"].grammar
    mirror = resolve_site(profiles, None, "https://mirror.example.org/")
    assert mirror.name == "mirror.example.org" and mirror.grammar == profiles["thaibinh"].grammar
    sample = resolve_site(profiles, "sample", "http://127.0.0.1:1/", profile="daknong")
    assert sample.name == "sample" and sample.grammar == profiles["daknong"].grammar
    with pytest.raises(ProfileError, match="unknown site 'kongtum'; known sites: camau, caobang"):
        resolve_site(profiles, "kongtum")
    with pytest.raises(ProfileError, match="unknown profile 'x'"):
        resolve_site(profiles, "sample", "http://a.vn/", profile="x")


def test_profile_settings_reach_scrapy() -> None:
    settings = builtin_profiles()["kontum"].settings()
    assert settings == {
        "DOWNLOAD_DELAY": 3.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DATE_ORDER": "DMY",
    }


# Corpus families written after the platforms of the shipped profiles.
FAMILY_PROFILES = {
    "thaibinh-": "thaibinh",
    "nukeviet-caobang-": "caobang",
    "wordpress-daknong-": "daknong",
    "dnn-kontum-": "kontum",
    "custom-kiengiang-": "kiengiang",
    "custom-camau-": "camau",
    "custom-quangtri-": "quangtri",
}
PROFILED_CASES = [
    (case, name)
    for case in cases()
    for prefix, name in FAMILY_PROFILES.items()
    if case.name.startswith(prefix)
]


@pytest.mark.parametrize(("case", "name"), PROFILED_CASES, ids=lambda v: getattr(v, "name", v))
def test_profiles_read_their_platforms_pages(case, name: str) -> None:
    profile = builtin_profiles()[name]
    response = HtmlResponse(url=case.url, body=case.body)
    page = ArticlePage(response.url, response.text, profile=profile)
    assert all(score(case, page.to_item()).values())
    assert profile.classify(case.url).kind is LinkKind.ARTICLE


def test_a_profile_selector_wins_and_explain_says_so() -> None:
    case = next(case for case, name in PROFILED_CASES if name == "caobang")
    response = HtmlResponse(url=case.url, body=case.body)
    with_profile = ArticlePage(response.url, response.text, profile=builtin_profiles()["caobang"])
    without = ArticlePage(response.url, response.text)
    assert with_profile.explain()["body"]["source"] == "selector"
    assert "#news-bodyhtml" in with_profile.explain()["body"]["detail"]
    assert without.explain()["body"]["source"] == "structure"
    assert with_profile.body() == without.body() == case.expected["body"]


def test_selectors_for_every_field_are_applied_first() -> None:
    html = """<html><head><meta property="og:title" content="Tiêu đề trong thẻ meta dài">
    <meta property="article:published_time" content="2022-01-01T08:00:00+07:00"></head><body>
    <h1>Tiêu đề trong thẻ meta dài</h1><p>Ngày: 02/02/2022</p>
    <div class="x-title">Tiêu đề do hồ sơ chỉ ra cho trang này</div>
    <span class="x-date" data-x="1">Đăng lúc 09:30 ngày 03/03/2023</span>
    <div class="x-body"><p>Đoạn thứ nhất của bài viết, đủ dài để là một đoạn văn thực sự.</p>
    <p><img src="/a.jpg" width="400"></p><p>Đoạn thứ hai của bài viết, cũng đủ dài để tính.</p>
    <p>Người viết: Lê Văn Tám</p></div>
    <div class="x-count">Đang xem: 12 | Tổng: 3.456</div>
    <p>Thống kê truy cập: 999</p></body></html>"""
    profile = load_profiles()["thaibinh"]
    profile = profile.__class__(
        **{
            **profile.__dict__,
            "selectors": profile.selectors.__class__(
                title=".x-title",
                date="//span[@data-x]",
                author=".x-body p:last-child",
                body=".x-body",
                images=".x-body img",
                counter=".x-count",
            ),
        }
    )
    explained = ArticlePage("https://a.vn/b-1.html", html, profile=profile).explain()
    assert {field: value["source"] for field, value in explained.items()} == {
        "title": "selector",
        "published_at": "selector",
        "author": "selector",
        "summary": "structure",
        "body": "selector",
        "images": "selector",
        "counter": "selector",
    }
    assert explained["title"]["value"] == "Tiêu đề do hồ sơ chỉ ra cho trang này"
    assert explained["published_at"]["value"] == "2023-03-03T09:30:00+07:00"
    assert explained["author"]["value"] == "Lê Văn Tám"
    assert explained["images"]["value"] == [{"url": "https://a.vn/a.jpg", "caption": None}]
    # The widget's labels are not ones the generic reader knows: the selector still bounds it.
    assert explained["counter"]["value"] == {"total": None, "online": None}


def test_link_selectors_limit_where_links_are_taken_from() -> None:
    grammar = builtin_profiles()["thaibinh"].grammar
    html = """<html><body><div id="menu"><a href="/tin-tuc/a-1.html">menu</a>
    <a href="/tin-tuc-3.html">cat</a></div>
    <div id="list"><a href="/tin-tuc/b-2.html">b</a><a href="/tin-tuc/page-2.htm">2</a></div>
    </body></html>"""
    url = "https://lienminhhtx.thaibinh.gov.vn/"
    everything = [link for link, _ in ListingPage(url, html, grammar).classified_links()]
    assert len(everything) == 4
    limited = dataclasses.replace(grammar, article_links="#list")
    kept = [
        link.rsplit("/", 1)[1] for link, _ in ListingPage(url, html, limited).classified_links()
    ]
    assert kept == ["tin-tuc-3.html", "b-2.html", "page-2.htm"]


@pytest.mark.parametrize("padding", [0, 5000])
def test_listing_links_resolve_as_scrapy_resolves_them(padding: int) -> None:
    """A `<base href>` early in the page sets where relative links point; one past the first
    4096 characters is not looked for, as with Scrapy's `response.urljoin`."""
    html = (
        f"<html><head><!-- {'x' * padding} --><base href='https://a.vn/tin-tuc/'></head>"
        "<body><a href='b-2.html'>b</a><a href='/c-3.html'>c</a></body></html>"
    )
    links = ListingPage("https://a.vn/", html).links()
    scrapy_links = [
        HtmlResponse(url="https://a.vn/", body=html.encode()).urljoin(href)
        for href in ("b-2.html", "/c-3.html")
    ]
    assert links == scrapy_links
    expected_b = "https://a.vn/tin-tuc/b-2.html" if padding == 0 else "https://a.vn/b-2.html"
    assert links == [expected_b, "https://a.vn/c-3.html"]


def _spider_settings(cmdline: dict, **arguments: str) -> tuple[object, dict]:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from coopspider.spiders.lienminh import LienminhSpider

    settings = Settings()
    settings.setmodule("coopspider.settings", priority="project")
    settings.update(cmdline, priority="cmdline")
    crawler = Crawler(LienminhSpider, settings)
    spider = LienminhSpider.from_crawler(crawler, **arguments)
    keys = ("DOWNLOAD_DELAY", "CONCURRENT_REQUESTS_PER_DOMAIN", "DATE_ORDER")
    return spider, {key: crawler.settings[key] for key in keys}


def test_the_spider_applies_its_profiles_politeness_unless_the_command_line_says_otherwise() -> (
    None
):
    spider, settings = _spider_settings({}, site="kontum")
    assert (spider.site, spider.base_url) == ("kontum", "https://lmhtx.kontum.gov.vn/")
    assert settings == {
        "DOWNLOAD_DELAY": 3.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DATE_ORDER": "DMY",
    }
    overrides = {"SITE_PROFILES": {"kontum": {"date_order": "MDY"}}, "DOWNLOAD_DELAY": 0}
    _, settings = _spider_settings(overrides, site="kontum")
    assert settings["DOWNLOAD_DELAY"] == 0 and settings["DATE_ORDER"] == "MDY"
