"""One vocabulary: an image and a removal read the same in the text diff, the e-mail and the
report, and page text stays text in every HTML the monitor writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import html as lxml_html
from sqlalchemy import select

from coopspider.monitor.alert_digest import EventInput, build_digest
from coopspider.monitor.alert_render import render_html, render_text
from coopspider.monitor.diff import build_diff, load_facts
from coopspider.monitor.report_data import build_report, load_report_source
from coopspider.monitor.report_html import render_pages
from coopspider.monitor.text_render import render_diff
from storage import (
    UTC_PLUS_7,
    Article,
    finish_run,
    list_events,
    open_database,
    record_event,
    start_run,
    store_articles,
)
from storage.content import describe_change

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC_PLUS_7)
IMAGE = {"url": "http://lienminhhtx.example/anh/ky-ket.jpg", "caption": "Lễ <ký> & kết"}
# How the image and the removal below read, written out by hand: the test checks the monitor's
# channels against these, not against the function that writes them.
IMAGE_TEXT = "http://lienminhhtx.example/anh/ky-ket.jpg (Lễ <ký> & kết)"
REMOVAL_TEXT = "trang bài viết trả về lỗi 410"


def article(article_id: str, images: list[dict[str, str]], fetched_at: datetime) -> dict:
    return {
        "url": f"http://lienminhhtx.example/tin-tuc/bai-{article_id}.html",
        "site": "thaibinh",
        "article_id": article_id,
        "category": "tin-tuc",
        "title": f"Bài {article_id}",
        "published_at": "2025-03-18T08:00:00+07:00",
        "published_raw": "18/03/2025",
        "author": None,
        "summary": None,
        "body": "Nội dung.",
        "images": images,
        "fetched_at": fetched_at.isoformat(),
    }


def build_archive(database_url: str) -> None:
    """Two finished crawls: the second finds an image added to one article and another article
    gone (410), recorded as the crawl records them."""
    database = open_database(database_url)
    first_at, second_at = NOW - timedelta(days=1), NOW - timedelta(hours=1)
    with database.begin() as session:
        runs = []
        for started, images in ((first_at, []), (second_at, [IMAGE])):
            run = start_run(
                session,
                site="thaibinh",
                spider="lienminh",
                base_url="http://x/",
                started_at=started,
            )
            store_articles(session, [article("1", images, started)], run)
            store_articles(session, [article("2", [], started)], run)
            finish_run(
                session,
                run,
                finished_at=started + timedelta(minutes=5),
                status="finished",
                finish_reason="finished",
                stats={},
            )
            runs.append(run)
        fields, diff = describe_change(article("1", [], first_at), article("1", [IMAGE], second_at))
        pks = dict(session.execute(select(Article.article_id, Article.id)).all())
        events = [
            ("changed", {"url": article("1", [], first_at)["url"], "title": "Bài 1",
                         "from_version": 1, "to_version": 2, "fields": fields, "diff": diff}),
            ("removed", {"url": article("2", [], first_at)["url"], "title": "Bài 2",
                         "reason": "gone", "status": 410}),
        ]  # fmt: skip
        for kind, details in events:
            article_id = "1" if kind == "changed" else "2"
            record_event(
                session,
                site="thaibinh",
                kind=kind,
                run_id=runs[1],
                article_pk=pks[article_id],
                details=details,
                detected_at=second_at,
            )
    database.close()


def test_an_image_and_a_removal_read_the_same_everywhere(database_url: str) -> None:
    build_archive(database_url)
    database = open_database(database_url)
    with database.session() as session:
        diff_text = render_diff(build_diff(load_facts(session)))
        digest = build_digest(
            EventInput(event.site, event.kind, event.details) for event in list_events(session)
        )
        report = build_report(load_report_source(session, now=NOW, days=2))
    database.close()
    mail_text, mail_html = render_text(digest), render_html(digest)
    pages = dict(render_pages(report))

    # The text diff and the mail's text part mark the added image the same way.
    for text in (diff_text, mail_text):
        assert "{+" + IMAGE_TEXT + "+}" in text
        assert f"Bài 2 ({REMOVAL_TEXT})" in text
        assert "Ảnh và chú thích:" in text

    # The mail's HTML part and the report show the same words, escaped.
    mail = lxml_html.fromstring(mail_html)
    index = lxml_html.fromstring(pages["index.html"])
    assert mail.xpath("//ins/text()") == [IMAGE_TEXT]
    assert index.xpath("//div[@data-field='images']/ins/text()") == [IMAGE_TEXT]
    assert index.xpath("//h4/text()") == ["Ảnh và chú thích"]
    assert REMOVAL_TEXT in mail.text_content()
    assert REMOVAL_TEXT in index.xpath("string(//h2[@id='go']/following-sibling::ul[1])")
    history = pages[f"articles/{report.changed[0].article_pk}.html"]
    assert IMAGE_TEXT in lxml_html.fromstring(history).text_content()
    for html in (mail_html, pages["index.html"], history):
        assert "<ký>" not in html and "Lễ &lt;ký&gt; &amp; kết" in html


def test_page_text_in_the_mail_html_part_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & <b>đậm</b>'
    events = [
        EventInput("thaibinh", "new", {"url": "https://a.example/1", "title": hostile}),
        EventInput(
            "thaibinh",
            "changed",
            {"url": "https://a.example/2", "title": "Sửa", "diff": {"body": ["a <i>", hostile]}},
        ),
        EventInput("thaibinh", "removed", {"url": "javascript:alert(1)", "title": hostile}),
    ]
    html = render_html(build_digest(events))
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;đậm&lt;/b&gt;" in html
    parsed = lxml_html.fromstring(html)
    assert parsed.xpath("//a/@href") == ["https://a.example/1", "https://a.example/2"]
    assert parsed.xpath("//ul/li/strong/a/text()")[0] == hostile
