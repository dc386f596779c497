"""Legacy Vietnamese encodings: windows-1258 with decomposed tone marks, right or wrong labels."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from coopspider.pages.article import ArticlePage
from coopspider.pages.decoding import looks_binary, page_text
from tests.helpers import to_windows_1258

PAGE = (
    "<html><head>{meta}<title>Hội nghị HTX</title></head><body><h1>Hợp tác xã Đông Quý tổ chức "
    "đại hội thành viên</h1><p>Ngày: 13/07/2023</p><p>Sáng ngày 13/7/2023, Hợp tác xã Đông Quý "
    "tổ chức đại hội thành viên thường niên với sự tham dự của hơn một trăm thành viên.</p>"
    "<p>Thùy Dung</p></body></html>"
)


@pytest.mark.parametrize(
    ("meta", "headers"),
    [
        ('<meta charset="windows-1258">', {}),
        ("", {}),
        ("", {"Content-Type": "text/html; charset=utf-8"}),
        ('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', {}),
    ],
    ids=["declared", "undeclared", "wrong-header", "wrong-meta"],
)
def test_windows_1258_pages_are_read_right(meta: str, headers: dict[str, str]) -> None:
    body = to_windows_1258(PAGE.format(meta=meta))
    response = HtmlResponse(url="http://example.vn/tin-tuc/a-1.html", body=body, headers=headers)
    fields = ArticlePage(response.url, page_text(response)).to_item()
    assert fields["title"] == "Hợp tác xã Đông Quý tổ chức đại hội thành viên"
    assert fields["published_at"] == "2023-07-13T00:00:00+07:00"
    assert fields["body"].startswith("Sáng ngày 13/7/2023, Hợp tác xã Đông Quý")
    assert fields["author"] == "Thùy Dung"


def test_utf8_page_is_left_alone() -> None:
    body = PAGE.format(meta='<meta charset="utf-8">').encode("utf-8")
    response = HtmlResponse(url="http://example.vn/a-1.html", body=body)
    assert page_text(response) == response.text


@pytest.mark.parametrize(
    ("body", "binary"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", True),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", True),
        (b"PK\x03\x04\x14\x00\x06\x00", True),  # .docx, .xlsx
        (b"<html><body>\x00\x01\x02</body></html>", True),
        ("\ufeff<html><body>Hợp tác xã</body></html>".encode("utf-16"), False),
        (PAGE.format(meta="").encode("utf-8"), False),
        (to_windows_1258(PAGE.format(meta="")), False),
        (b"", False),
    ],
    ids=["png", "pdf", "zip", "nul-bytes", "utf-16", "utf-8", "windows-1258", "empty"],
)
def test_files_behind_page_urls_are_told_from_pages(body: bytes, binary: bool) -> None:
    assert looks_binary(body) is binary
