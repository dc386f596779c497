"""Random and mutated HTML never makes the page objects or the counter parser raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coopspider.pages.article import ArticlePage
from coopspider.pages.counter import parse_counter
from tests.conftest import FUZZ_INPUTS

PAGES = sorted((Path(__file__).parent / "pages").glob("*.html"))
TAGS = [
    "div",
    "p",
    "td",
    "tr",
    "table",
    "span",
    "a",
    "h1",
    "h2",
    "b",
    "i",
    "br",
    "img",
    "li",
    "ul",
    "figure",
    "figcaption",
    "script",
    "nav",
    "footer",
    "time",
    "meta",
]
WORDS = [
    "Ngày:",
    "13/07/2023",
    "Thống kê truy cập:",
    "280.451",
    "Tin liên quan",
    "Theo:",
    "Người đưa tin:",
    "Thùy Dung",
    "TIN MỚI:",
    "Lượt xem: 12",
    "Hợp tác xã",
    "29/02/2023",
    "Đang online",
    "&nbsp;",
    "&#7871;",
    "<",
    ">",
    "\u0301",
    "(Ảnh: Minh)",
    "19:30 PM",
]
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fragment() -> st.SearchStrategy[str]:
    text = st.lists(st.sampled_from(WORDS) | st.text(max_size=20), max_size=6).map(" ".join)
    return st.recursive(
        text,
        lambda inner: st.builds(
            lambda tag, children, attribute: f"<{tag} {attribute}>{''.join(children)}</{tag}>",
            st.sampled_from(TAGS),
            st.lists(inner, max_size=4),
            st.sampled_from(
                [
                    "",
                    'style="text-align:center"',
                    'src="a.jpg"',
                    "hidden",
                    'content="2023-07-13T07:00:00+07:00"',
                    'href="/x-1.html"',
                ]
            ),
        ),
        max_leaves=30,
    )


@EXAMPLES
@given(_fragment())
@pytest.mark.slow
def test_random_html_never_raises(html: str) -> None:
    FUZZ_INPUTS["ArticlePage.to_item: random HTML"] += 1
    fields = ArticlePage(
        "https://example.vn/a/b-1.html", f"<html><body>{html}</body></html>"
    ).to_item()
    assert isinstance(fields["body"], str)


@EXAMPLES
@given(
    st.sampled_from(PAGES),
    st.integers(min_value=0),
    st.integers(min_value=0),
    st.binary(max_size=40),
)
@pytest.mark.slow
def test_mutated_real_pages_never_raise(page: Path, start: int, length: int, junk: bytes) -> None:
    FUZZ_INPUTS["ArticlePage.to_item: mutated saved pages"] += 1
    body = page.read_bytes()
    start %= max(len(body), 1)
    mutated = body[:start] + junk + body[start + length % 2000 :]
    ArticlePage("https://example.vn/a/b-1.html", mutated.decode("utf-8", "replace")).to_item()


@EXAMPLES
@given(st.text(max_size=300))
def test_counter_parser_never_raises(text: str) -> None:
    FUZZ_INPUTS["parse_counter: random text"] += 1
    counter = parse_counter(text)
    assert counter.total is None or counter.total >= 0


def test_deeply_nested_page_is_still_read() -> None:
    depth = 1000  # libxml2 alone stops at 256 levels
    page = (
        "<html><body>" + "<div>" * depth + "<h1>Hội nghị sơ kết công tác 6 tháng đầu năm 2023</h1>"
        "<p>Ngày: 13/07/2023</p><p>"
        + "Liên minh HTX tỉnh tổ chức hội nghị. " * 8
        + "</p>"
        + "</div>" * depth
        + "</body></html>"
    )
    fields = ArticlePage("https://example.vn/a/b-1.html", page).to_item()
    assert fields["title"] == "Hội nghị sơ kết công tác 6 tháng đầu năm 2023"
    assert fields["published_at"] == "2023-07-13T00:00:00+07:00"
    assert fields["body"].startswith("Liên minh HTX tỉnh tổ chức hội nghị.")


def test_addresses_urljoin_cannot_parse_are_kept_as_printed() -> None:
    # Found by test_mutated_real_pages_never_raise: a `[` in a host made urljoin raise.
    paragraph = "<p>" + "Hợp tác xã nông nghiệp phát triển bền vững, " * 4 + "</p>"
    page = ArticlePage(
        "https://example.vn/a/b-1.html",
        '<html><head><base href="https://[example.vn/"></head><body><h1>Ra mắt Liên hiệp '
        f'Hợp tác xã</h1>{paragraph}<img src="//[cdn.example.vn/a.jpg">{paragraph}</body></html>',
    )
    assert page.base_href == "https://example.vn/a/b-1.html"
    assert [image["url"] for image in page.images()] == ["//[cdn.example.vn/a.jpg"]
