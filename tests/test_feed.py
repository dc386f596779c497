"""The Atom feed of the change events: valid for a feed parser and for an XML parser, newest
first, ids that stay put across generations, hostile page text kept as text, the --site and
--days filters, the report's feed.atom, and clear errors.

The events come from the crawl's own storage functions on a real database (SQLite and
PostgreSQL), and, end to end, from two real crawls of the sample site."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import html as lxml_html

from coopspider.cli import build_parser
from coopspider.files import write_whole
from coopspider.monitor.feed import Feed, build_feed, feed_of_source, load_feed_source, render_feed
from coopspider.sample_site import build_site, serve
from storage import (
    UTC_PLUS_7,
    ChangeEvent,
    GoneSeen,
    archive_articles,
    finish_run,
    finish_tracking,
    latest_run,
    list_events,
    open_database,
    record_event,
    save_counter,
    start_run,
)
from tests.conftest import fresh_pg_schema, scrapy_crawl
from tests.helpers import coopspider, fresh_article, make_article

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = "<script>alert('x')</script> Hợp tác xã & <b>Đông Quý</b> ]]> \"trích\""
HOSTILE_BODY = "Mở đầu <img src=x onerror=alert(1)> & kết thúc."
# Characters XML 1.0 cannot hold, as an archive written before text normalisation kept them.
RAW_TITLE = "Tin \x1b[31mđỏ\x07 \ufffe hết\x0c"
SHOWN_TITLE = "Tin [31mđỏ  hết"
FILLER = " ".join(f"Câu thứ {number} không đổi." for number in range(60))


def article(article_id: str, title: str, body: str) -> dict:
    """An article item with an address that needs escaping in XML (&)."""
    return make_article(
        url=f"http://lienminhhtx.example/tin-tuc-su-kien/bai-{article_id}.html?a=1&b=2",
        article_id=article_id,
        title=title,
        body=body,
        images=[],
        fetched_at=datetime.now(UTC).isoformat(),
    )


def build_archive(url: str) -> None:
    """Three runs of thaibinh as the crawl records them (a baseline; a new, an edited and a
    404 article and a counter reset; the removed article served again), a new article on
    namdinh recorded with raw control characters, and an event of 40 days ago."""
    database = open_database(url)
    now = datetime.now(UTC)

    def run(site: str, started: datetime) -> int:
        return start_run(
            session, site=site, spider="lienminh", base_url="http://x/", started_at=started
        )

    def finish(run_id: int, site: str, total: int, baseline: bool, gone: list[GoneSeen]) -> None:
        reading = {"site": site, "url": "http://x/", "total": total, "online": 1}
        save_counter(session, {**reading, "observed_at": datetime.now(UTC).isoformat()}, run_id)
        finish_run(
            session,
            run_id,
            finished_at=datetime.now(UTC),
            status="finished",
            finish_reason="finished",
            stats={},
        )
        finish_tracking(
            session, site=site, run_id=run_id, listings=[], gone=gone, baseline=baseline
        )

    with database.begin() as session:
        first = run("thaibinh", now - timedelta(hours=3))
        originals = [
            article("101", "Hội nghị sơ kết", f"Nội dung cũ. {FILLER}"),
            article("102", "Bài sẽ bị gỡ", "Sẽ biến mất."),
        ]
        archive_articles(session, originals, first, baseline=True)
        finish(first, "thaibinh", 5000, True, [])

        second = run("thaibinh", now - timedelta(hours=2))
        edited = article("101", "Hội nghị sơ kết 6 tháng", f"Nội dung mới. {FILLER} Thêm câu.")
        archive_articles(session, [article("103", HOSTILE_TITLE, HOSTILE_BODY), edited], second)
        finish(second, "thaibinh", 50, False, [GoneSeen("102", 404)])

        third = run("thaibinh", now - timedelta(hours=1))
        archive_articles(session, [originals[1]], third)  # served again: restored
        finish(third, "thaibinh", 60, False, [])

        other = run("namdinh", now - timedelta(minutes=30))
        raw = {"url": "http://namdinh.example/tin/1.html", "title": RAW_TITLE}
        record_event(session, site="namdinh", kind="new", run_id=other, details=raw)
        old = {"url": "http://namdinh.example/tin/0.html", "title": "Tin cũ"}
        record_event(
            session,
            site="namdinh",
            kind="new",
            run_id=other,
            details=old,
            detected_at=now - timedelta(days=40),
        )
    database.close()


def make_feed(url: str, *, days: int = 30, site: str | None = None) -> Feed:
    database = open_database(url)
    with database.session() as session:
        source = load_feed_source(session, now=datetime.now(UTC), days=days, site=site)
    database.close()
    return feed_of_source(source)  # built after the session closed: reads only what was loaded


def parse(document: str) -> tuple[feedparser.FeedParserDict, ET.Element]:
    """The feed as a feed reader reads it (must not be "bozo": ill-formed or not Atom) and as
    an XML parser does."""
    parsed = feedparser.parse(document.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, ET.fromstring(document.encode("utf-8"))


def check_atom(root: ET.Element) -> list[ET.Element]:
    """RFC 4287's required elements; the entries."""
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        alternate = [
            link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"
        ]
        # An entry without content must link its page (RFC 4287, 4.1.2).
        assert alternate or entry.find(f"{ATOM}content") is not None
    return entries


def times(entries: list[ET.Element]) -> list[datetime]:
    return [
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated", "").replace("Z", "+00:00"))
        for entry in entries
    ]


def kinds(entries: list[ET.Element]) -> list[str]:
    return [entry.find(f"{ATOM}category").get("term") for entry in entries]  # type: ignore[union-attr]


def summary_tree(entry: ET.Element) -> lxml_html.HtmlElement:
    """The entry's HTML summary (or content) as a browser would build it."""
    text = entry.findtext(f"{ATOM}summary") or entry.findtext(f"{ATOM}content") or ""
    return lxml_html.fragment_fromstring(text, create_parent="div")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The archive above, built once per database for the tests that only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('feed') / 'archive.sqlite3'}"
        build_archive(url)
        yield url
        return
    with fresh_pg_schema(request.getfixturevalue("pg_admin"), "test_feed") as url:
        build_archive(url)
        yield url


@pytest.fixture
def archive(db_url: str) -> str:
    """The archive above, for a test that adds to it."""
    build_archive(db_url)
    return db_url


def test_feed_holds_every_kind_of_change_newest_first(shared_archive: str) -> None:
    archive = shared_archive
    feed = make_feed(archive)
    document = render_feed(feed)
    parsed, root = parse(document)
    entries = check_atom(root)
    assert sorted(kinds(entries)) == sorted(
        ["new", "new", "changed", "removed", "restored", "counter_anomaly"]
    )  # no baseline, nothing older than 30 days
    found = times(entries)
    assert found == sorted(found, reverse=True) and len(parsed.entries) == len(entries)
    # The event recorded last (namdinh's) comes first, and gives the feed its time.
    database = open_database(archive)
    with database.session() as session:
        recorded = [e for e in list_events(session, since=datetime.now(UTC) - timedelta(days=1))]
    database.close()
    assert recorded[-1].site == "namdinh"
    assert entries[0].findtext(f"{ATOM}title") == f"Bài mới: {SHOWN_TITLE}"
    assert root.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")

    edited = entries[kinds(entries).index("changed")]
    assert edited.findtext(f"{ATOM}title") == "Bài đã sửa: Hội nghị sơ kết 6 tháng"
    link = edited.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == "http://lienminhhtx.example/tin-tuc-su-kien/bai-101.html?a=1&b=2"
    summary = summary_tree(edited)
    assert "Phát hiện trên trang thaibinh lúc" in summary.text_content()
    assert summary.xpath("//div[@data-field='title']/ins/text()") == [" 6 tháng"]
    # An edit at each end of a long body: the excerpt shows the words around them, not all.
    body = summary.xpath("string(//div[@data-field='body'])")
    assert summary.xpath("//div[@data-field='body']/ins/text()") == ["mới.", " Thêm câu."]
    assert "…" in body and len(body) < len(FILLER) / 2

    removed = entries[kinds(entries).index("removed")]
    assert "Lý do: trang bài viết trả về lỗi 404." in summary_tree(removed).text_content()
    anomaly = entries[kinds(entries).index("counter_anomaly")]
    assert anomaly.find(f"{ATOM}link") is None and anomaly.find(f"{ATOM}content") is not None
    assert "Bộ đếm truy cập giảm từ 5.000 xuống 50" in summary_tree(anomaly).text_content()
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"


def test_hostile_page_text_is_escaped_text(shared_archive: str) -> None:
    archive = shared_archive
    document = render_feed(make_feed(archive))
    parsed, root = parse(document)
    for character in ("\x1b", "\x07", "\x0c", "\ufffe"):
        assert character not in document
    entries = root.findall(f"{ATOM}entry")
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert f"Bài mới: {HOSTILE_TITLE}" in titles
    assert f"Bài mới: {SHOWN_TITLE}" in titles
    # Only Atom elements: no page text became an element.
    assert {element.tag for element in root.iter()} <= {
        f"{ATOM}{name}"
        for name in ["feed", "id", "title", "subtitle", "updated", "author", "name"]
        + ["generator", "link", "entry", "category", "summary", "content"]
    }
    hostile = next(e for e in parsed.entries if e.title == f"Bài mới: {HOSTILE_TITLE}")
    assert hostile.title_detail.type == "text/plain"
    assert hostile.link == "http://lienminhhtx.example/tin-tuc-su-kien/bai-103.html?a=1&b=2"
    edited = summary_tree(entries[kinds(entries).index("changed")])
    assert not edited.xpath("//script") and not edited.xpath("//img")


def test_entry_ids_stay_the_same_when_the_feed_is_written_again(archive: str) -> None:
    before = render_feed(make_feed(archive))
    database = open_database(archive)
    with database.begin() as session:
        run = latest_run(session, "thaibinh")
        assert run is not None
        details = {"url": "http://lienminhhtx.example/bai-104.html", "title": "Bài thứ tư"}
        record_event(session, site="thaibinh", kind="new", run_id=run.id, details=details)
    database.close()
    after = render_feed(make_feed(archive))
    (_, first), (_, second) = parse(before), parse(after)

    def ids(root: ET.Element) -> dict[str, str]:
        return {
            entry.findtext(f"{ATOM}id", ""): entry.findtext(f"{ATOM}title", "")
            for entry in root.findall(f"{ATOM}entry")
        }

    old, new = ids(first), ids(second)
    assert len(old) == len(first.findall(f"{ATOM}entry"))  # unique
    assert all(entry_id.startswith("tag:coopspider,2025:") for entry_id in new)
    assert old.items() <= new.items() and len(new) == len(old) + 1
    assert second.findall(f"{ATOM}entry")[0].findtext(f"{ATOM}title") == "Bài mới: Bài thứ tư"
    assert first.findtext(f"{ATOM}id") == second.findtext(f"{ATOM}id")


def test_site_and_days_filters(shared_archive: str) -> None:
    archive = shared_archive
    _, namdinh = parse(render_feed(make_feed(archive, site="namdinh")))
    titles = [e.findtext(f"{ATOM}title") for e in check_atom(namdinh)]
    assert titles == [f"Bài mới: {SHOWN_TITLE}"]
    assert namdinh.findtext(f"{ATOM}id") == "tag:coopspider,2025:feed/namdinh"
    assert "namdinh" in namdinh.findtext(f"{ATOM}title", "")
    _, longer = parse(render_feed(make_feed(archive, site="namdinh", days=60)))
    assert [e.findtext(f"{ATOM}title") for e in longer.findall(f"{ATOM}entry")] == [
        *titles,
        "Bài mới: Tin cũ",
    ]
    _, thaibinh = parse(render_feed(make_feed(archive, site="thaibinh", days=1)))
    entries = check_atom(thaibinh)
    assert {e.findtext(f"{ATOM}id", "").split("/")[0] for e in entries} == {
        "tag:coopspider,2025:thaibinh"
    }
    assert len(entries) == 5


def test_an_empty_archive_gives_a_valid_feed_without_entries(database_url: str) -> None:
    open_database(database_url).close()
    feed = make_feed(database_url)
    parsed, root = parse(render_feed(feed))
    assert check_atom(root) == [] and parsed.entries == []
    assert root.findtext(f"{ATOM}updated") == feed.generated_at.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_build_feed_orders_events_found_together_by_record() -> None:
    moment = datetime(2025, 3, 18, 9, tzinfo=UTC_PLUS_7)
    later = moment + timedelta(hours=1)

    def removed(number: int, at: datetime) -> ChangeEvent:
        url = f"http://lienminhhtx.example/bai-{number}.html"
        details = {"url": url, "title": f"Bài {number}", "reason": "unlisted"}
        return ChangeEvent(site="x y/z", kind="removed", detected_at=at, details=details)

    # Removals one run records share their time: the one recorded last is the newest.
    events = [removed(1, moment), removed(2, later), removed(3, later)]
    feed = build_feed(events, now=later, days=7, site="x y/z")
    assert [entry.title for entry in feed.entries] == ["Bài 3", "Bài 2", "Bài 1"]
    assert len({entry.id for entry in feed.entries}) == 3
    assert feed.entries[0].id.startswith("tag:coopspider,2025:x%20y%2Fz/removed/")
    assert feed.id == "tag:coopspider,2025:feed/x%20y%2Fz" and feed.updated == later
    assert feed.since == datetime(2025, 3, 12, tzinfo=UTC_PLUS_7)
    assert build_feed([], now=moment, days=1).updated == moment


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "feed.atom"
    target.write_text("previous feed", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_whole(target, "half a feed, then a lone surrogate \ud800")
    assert target.read_text(encoding="utf-8") == "previous feed"
    assert [path.name for path in tmp_path.iterdir()] == ["feed.atom"]


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
def test_feed_and_report_after_two_real_crawls(tmp_path: Path, database_url: str) -> None:
    site = build_site()
    with serve(site) as server:
        result = scrapy_crawl(
            server.base_url, database_url, tmp_path / "1.jsonl", "-a", "site=sample"
        )
        assert result.returncode == 0, result.log[-3000:]
        edited = site.latest()[1]
        edited.title = f"{edited.title} <b>&</b> (cập nhật)"
        added = fresh_article(site, "9001", HOSTILE_TITLE)
        site.articles.append(added)
        site.counter_total -= 10  # a counter that went down: an anomaly
        # A full crawl reads every article again, so it finds the edit.
        result = scrapy_crawl(
            server.base_url, database_url, tmp_path / "2.jsonl", "-a", "site=sample", "-a", "full=1"
        )
        assert result.returncode == 0, result.log[-3000:]
        base = server.base_url.rstrip("/")

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    out = tmp_path / "feed.atom"
    done = coopspider("feed", "--out", str(out), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Feed written: {out.as_uri()}" in done.stdout and "3 changes" in done.stdout
    parsed, root = parse(out.read_text(encoding="utf-8"))
    entries = check_atom(root)
    assert sorted(kinds(entries)) == ["changed", "counter_anomaly", "new"]
    links = {e.title: e.get("link") for e in parsed.entries}
    assert links[f"Bài mới: {HOSTILE_TITLE}"] == base + added.path
    assert links[f"Bài đã sửa: {edited.title}"] == base + edited.path

    # Written again by `report`, beside index.html and linked from it: the same entries.
    report = tmp_path / "report"
    done = coopspider("report", "--out", str(report), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _, again = parse((report / "feed.atom").read_text(encoding="utf-8"))
    assert [e.findtext(f"{ATOM}id") for e in check_atom(again)] == [
        e.findtext(f"{ATOM}id") for e in entries
    ]
    alternate = [link for link in again.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert [link.get("href") for link in alternate] == ["index.html"]
    index = lxml_html.parse(str(report / "index.html")).getroot()
    assert index.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href") == [
        "feed.atom"
    ]
    assert index.xpath("//a[@class='feed']/@href") == ["feed.atom"]

    same = tmp_path / "sample.atom"
    done = coopspider("feed", "--out", str(same), "--site", "sample", "--days", "1", env=env)
    assert done.returncode == 0, done.stderr
    assert same.read_text(encoding="utf-8").count("<entry>") == 3

    # Mistakes: one line, exit 2, and the feed already written left as it was.
    written = out.read_bytes()
    mistakes = {
        ("--site", "nosuch"): "unknown site 'nosuch'; known sites: ",
        ("--days", "-1"): "--days must be at least 1, not -1",
        ("--days", "0"): "--days must be at least 1, not 0",
    }
    for extra, message in mistakes.items():
        done = coopspider("feed", "--out", str(out), *extra, env=env, cwd=tmp_path)
        assert done.returncode == 2 and done.stdout == "", (extra, done.stderr)
        assert done.stderr.startswith(f"coopspider: error: {message}"), done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert out.read_bytes() == written
    for place, message in [
        (tmp_path / "missing" / "f.atom", "no directory"),
        (tmp_path, "is a directory"),
        # Not writable even by root (the tests may run as root): the kernel's /sys.
        (Path("/sys/feed.atom"), "cannot write the feed to /sys/feed.atom: "),
    ]:
        done = coopspider("feed", "--out", str(place), env=env, cwd=tmp_path)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert not list(tmp_path.glob(".*.tmp")) and not (tmp_path / "missing").exists()


def test_feed_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["feed", "--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0 and text.startswith("usage: coopspider feed")
    for option in ("--out FILE", "--site NAME", "--days N", "Atom 1.0"):
        assert option in text
