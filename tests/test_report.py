"""The HTML report: its content from the archive's events, the counter chart, and the pages as
a real headless Chromium renders them (the chart drawn, hostile page text kept as text)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from coopspider.monitor.counter_chart import counter_chart_svg, nice_ticks
from coopspider.monitor.report_data import (
    CounterDay,
    build_report,
    daily_visits,
    load_report_source,
)
from coopspider.monitor.vocabulary import number_text
from storage import (
    UTC_PLUS_7,
    Article,
    finish_run,
    open_database,
    record_event,
    save_counter,
    start_run,
    store_articles,
)
from tests.helpers import coopspider

# The archive's clock: noon yesterday in Vietnam, so everything it holds is in the past for the
# `report` command, which reads the real clock.
TODAY = datetime.now(UTC_PLUS_7).date()
NOW = datetime.combine(TODAY - timedelta(days=1), time(12), UTC_PLUS_7)
HOSTILE_TITLE = "<script>document.title='PWNED'</script>Hợp tác xã <b>Đông Quý</b>"
HOSTILE_BODY = "Mở đầu <img src=x onerror=\"document.title='PWNED'\"> kết thúc & hết."
PAGE_TITLE = "Báo cáo theo dõi tin bài"


def article(article_id: str, title: str, body: str, **extra: object) -> dict:
    return {
        "url": f"http://lienminhhtx.example/tin-tuc-su-kien/bai-{article_id}.html",
        "site": "thaibinh",
        "article_id": article_id,
        "category": "tin-tuc-su-kien",
        "title": title,
        "published_at": "2025-03-18T08:00:00+07:00",
        "published_raw": "18/03/2025",
        "author": "Thùy Dung",
        "summary": None,
        "body": body,
        "images": [{"url": "javascript:alert(1)", "caption": "<i>ảnh</i>"}],
        **extra,
    }


def build_archive(database_url: str) -> dict[str, int]:
    """Two crawls of one site: the second finds a new, an edited and a removed article, as
    the crawl (issue 4) records them; counter readings over ten days, one of them a reset."""
    database = open_database(database_url)
    first_at, second_at = NOW - timedelta(days=2), NOW - timedelta(hours=3)
    with database.begin() as session:
        first = start_run(
            session, site="thaibinh", spider="lienminh", base_url="http://x/", started_at=first_at
        )
        for item in (
            article("101", "Hội nghị sơ kết", "Nội dung cũ của hội nghị.", fetched_at=first_at),
            article("102", "Bài sẽ bị gỡ", "Sẽ biến mất.", fetched_at=first_at),
        ):
            store_articles(session, [item], first)
        finish_run(
            session,
            first,
            finished_at=first_at + timedelta(minutes=5),
            status="finished",
            finish_reason="finished",
            stats={"downloader/response_count": 40, "coopspider/articles/new": 2},
        )
        record_event(
            session,
            site="thaibinh",
            kind="baseline",
            run_id=first,
            details={"articles": 2},
            detected_at=first_at,
        )

        second = start_run(
            session, site="thaibinh", spider="lienminh", base_url="http://x/", started_at=second_at
        )
        fetched = {"fetched_at": second_at}
        store_articles(session, [article("103", HOSTILE_TITLE, HOSTILE_BODY, **fetched)], second)
        edited = article("101", "Hội nghị sơ kết 6 tháng", "Nội dung mới của hội nghị.", **fetched)
        store_articles(session, [edited], second)
        pks = {
            row.article_id: row.id
            for row in session.scalars(select(Article).order_by(Article.article_id))
        }
        session.get(Article, pks["102"]).removed_at = second_at
        finish_run(
            session,
            second,
            finished_at=second_at + timedelta(minutes=5),
            status="finished",
            finish_reason="finished",
            stats={
                "downloader/response_count": 41,
                "coopspider/articles/new": 1,
                "coopspider/articles/changed": 1,
                "log_count/ERROR": 2,
                "coopspider/pages/unparsed": 1,
            },
        )
        events = [
            ("new", pks["103"], {"url": edited["url"].replace("101", "103"), "title": HOSTILE_TITLE,
                                 "published_at": "2025-03-18T08:00:00+07:00"}),
            ("changed", pks["101"], {
                "url": edited["url"], "title": edited["title"], "from_version": 1, "to_version": 2,
                "fields": ["title", "body"],
                "diff": {"title": ["Hội nghị sơ kết", edited["title"]],
                         "body": ["Nội dung cũ của hội nghị.", edited["body"]]},
            }),
            ("removed", pks["102"], {"url": "http://lienminhhtx.example/bai-102.html",
                                     "title": "Bài sẽ bị gỡ", "reason": "gone", "status": 404}),
            ("counter_anomaly", None, {"anomaly": "decrease", "total": 50,
                                       "previous_total": 5000, "runs": [second]}),
        ]  # fmt: skip
        for kind, article_pk, details in events:
            record_event(
                session,
                site="thaibinh",
                kind=kind,
                run_id=second,
                article_pk=article_pk,
                details=details,
                detected_at=second_at,
            )
        # A reading at each midnight in Vietnam for ten days, 100, 200, ... 900 visits a day
        # (the day N days before yesterday had 1000 - 100 * N); then a reset.
        total = 1000
        for days_ago in range(9, -1, -1):
            moment = datetime.combine(NOW.date() - timedelta(days=days_ago), time(), UTC_PLUS_7)
            reading = {"site": "thaibinh", "url": "http://x/", "total": total, "online": 7}
            save_counter(session, {**reading, "observed_at": moment.isoformat()}, first)
            total += 100 * (10 - days_ago)
        reset = {"site": "thaibinh", "url": "http://x/", "total": 50, "online": 3}
        save_counter(
            session, {**reset, "observed_at": (NOW - timedelta(hours=1)).isoformat()}, second
        )
    database.close()
    return pks


# --- pure parts ----------------------------------------------------------------------------


def test_daily_visits_spreads_visits_over_the_days_between_readings() -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2025, 3, day, hour, tzinfo=UTC_PLUS_7)

    readings = [(at(1, 12), 1000), (at(3, 12), 1480), (at(4, 0), 1600), (at(5, 0), 10)]
    days = daily_visits(readings, date(2025, 2, 28), date(2025, 3, 5))
    assert days == [
        CounterDay(date(2025, 2, 28), None),  # before the first reading
        CounterDay(date(2025, 3, 1), 120),  # 12 of the 48 hours between the first two readings
        CounterDay(date(2025, 3, 2), 240),
        CounterDay(date(2025, 3, 3), 240),  # 120 + 120 from the next span
        CounterDay(date(2025, 3, 4), None),  # the counter went down: nothing known
        CounterDay(date(2025, 3, 5), None),
    ]


def test_nice_ticks_and_numbers() -> None:
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(1230) == [0, 500, 1000, 1500]
    assert number_text(1234567) == "1.234.567"


def test_chart_escapes_the_site_name_and_draws_a_bar_per_known_day() -> None:
    days = [CounterDay(date(2025, 3, 1), 10), CounterDay(date(2025, 3, 2), None)]
    svg = counter_chart_svg(days, site="<script>x</script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    tree = lxml_html.fragment_fromstring(svg)
    assert len(tree.xpath("//rect[@class='bar']")) == 1
    assert len(tree.xpath("//rect[@class='no-data']")) == 1


def test_report_model_reads_the_events(database_url: str) -> None:
    url = database_url
    pks = build_archive(url)
    database = open_database(url)
    with database.session() as session:
        source = load_report_source(session, now=NOW, days=7, site="thaibinh")
        older_source = load_report_source(session, now=NOW - timedelta(days=30), days=7)
    database.close()
    # Built after the session closed: the builder reads only what was loaded (a lazy load on a
    # detached row would raise).
    report, older = build_report(source), build_report(older_source)
    assert [item.title for item in report.new] == [HOSTILE_TITLE]
    assert [item.title for item in report.changed] == ["Hội nghị sơ kết 6 tháng"]
    assert [diff.field for diff in report.changed[0].diffs] == ["title", "body"]
    assert ("insert", " 6 tháng") in report.changed[0].diffs[0].pieces
    assert [item.note for item in report.removed] == ["trang bài viết trả về lỗi 404"]
    assert report.baselines == [("thaibinh", 2, NOW - timedelta(days=2))]
    assert set(report.articles) == {pks["101"], pks["102"], pks["103"]}
    assert [v.version for v in report.articles[pks["101"]].versions] == [1, 2]
    (series,) = report.counters
    assert [day.visits for day in series.days] == [400, 500, 600, 700, 800, 900, None]
    assert series.latest_total == 50 and len(series.anomalies) == 1
    assert [(run.pages, run.errors, run.unparsed) for run in report.runs] == [
        (41, 2, 1),
        (40, 0, 0),
    ]
    assert older.new == older.changed == older.runs == [] and older.articles == {}


# --- the command and the browser -----------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")


def rendered_dom(page: Path) -> str:
    """The page's DOM after Chromium loaded it and ran whatever scripts it holds."""
    done = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",  # the tests may run as root (CI)
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={page.parent / '.chromium-profile'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`coopspider report` run as a user would, on the archive above."""
    base = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{base / 'archive.sqlite3'}"
    build_archive(url)
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": url}
    out = base / "out"
    done = coopspider("report", "--out", str(out), "--days", "8", env=env, cwd=base)
    assert done.returncode == 0, done.stderr
    assert f"Report written: {(out / 'index.html').as_uri()}" in done.stdout
    assert "1 new, 1 edited, 1 removed articles and 2 crawl runs" in done.stdout
    assert done.stderr == ""  # no progress line when stderr is not a terminal
    return out


@pytest.mark.slow
def test_report_renders_in_chromium_with_the_chart_drawn(report_dir: Path) -> None:
    # A copy of the page with a probe that writes what the browser laid out into the DOM.
    probe = report_dir / "probe.html"
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    probe.write_text(
        page.replace(
            "</body>",
            "<script>const svg = document.querySelector('svg.counter-chart');"
            "const box = svg.getBoundingClientRect();"
            "const bars = [...svg.querySelectorAll('rect.bar')].map(r => r.getBBox().height);"
            "document.body.dataset.probe = JSON.stringify("
            "{width: box.width, height: box.height, bars: bars});</script></body>",
        ),
        encoding="utf-8",
    )
    tree = lxml_html.fromstring(rendered_dom(probe))
    measured = json.loads(tree.xpath("//body/@data-probe")[0])
    assert measured["width"] > 300 and measured["height"] > 100
    # Six days with visits 400..900 on a 0..1000 axis: heights rise in proportion.
    heights = measured["bars"]
    assert len(heights) == 6 and heights == sorted(heights) and heights[0] > 0
    assert heights[-1] / heights[0] == pytest.approx(900 / 400, rel=0.02)
    labels = tree.xpath("//svg//g[@class='y-axis']/text/text()")
    assert labels[0] == "0" and labels[-1] == "1.000"


def test_hostile_page_text_stays_text_in_chromium(report_dir: Path) -> None:
    # The same browser set-up runs scripts (the probe above): here none may have run.
    index = lxml_html.fromstring(rendered_dom(report_dir / "index.html"))
    assert index.xpath("string(//title)") == PAGE_TITLE
    assert not index.xpath("//script") and not index.xpath("//img")
    new_link = index.xpath("//h2[@id='moi']/following-sibling::ul[1]//a")[0]
    assert new_link.text_content() == HOSTILE_TITLE
    assert not new_link.xpath(".//b")

    article_page = report_dir / new_link.get("href")
    rendered = lxml_html.fromstring(rendered_dom(article_page))
    assert rendered.xpath("string(//title)") == HOSTILE_TITLE
    assert not rendered.xpath("//script") and not rendered.xpath("//img")
    assert HOSTILE_BODY in rendered.xpath("string(//div[@class='body'])")
    # A javascript: image URL is shown, never linked; its caption is text.
    assert not rendered.xpath("//a[starts-with(@href, 'javascript:')]")
    assert "javascript:alert(1) (<i>ảnh</i>)" in rendered.text_content()


def test_report_links_each_change_to_the_archived_versions(report_dir: Path) -> None:
    index = lxml_html.fromstring((report_dir / "index.html").read_text(encoding="utf-8"))
    edited = index.xpath("//section[@class='changed']")[0]
    link = edited.xpath(".//h3/a")[0]
    page, anchor = link.get("href").split("#")
    assert anchor == "v2"
    assert edited.xpath(".//div[@data-field='title']/ins/text()") == [" 6 tháng"]
    assert edited.xpath(".//div[@data-field='body']/del/text()") == ["cũ"]
    assert edited.xpath(".//div[@data-field='body']/ins/text()") == ["mới"]

    history = lxml_html.fromstring((report_dir / page).read_text(encoding="utf-8"))
    assert history.xpath("//section[@class='version']/@id") == ["v2", "v1"]
    assert history.xpath("//section[@id='v1']//h3/text()") == ["Hội nghị sơ kết"]
    assert history.xpath("//section[@id='v2']//div[@data-field='body']/ins/text()") == ["mới"]
    runs = index.xpath("//table[@class='runs']/tbody/tr")
    assert [row.get("class") for row in runs] == ["unhealthy", None]
    assert "Bộ đếm truy cập giảm" in index.xpath("string(//ul[contains(@class, 'anomalies')])")


@pytest.mark.slow
def test_report_errors_are_clear(tmp_path: Path) -> None:
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = coopspider("report", "--out", str(blocker), env=env, cwd=tmp_path)
    assert done.returncode == 2 and "not a directory" in done.stderr
    done = coopspider("report", "--out", str(tmp_path / "r"), "--days", "0", env=env, cwd=tmp_path)
    assert done.returncode == 2 and "--days" in done.stderr


@pytest.mark.parametrize("command", ["report", "search", "export"])
def test_new_commands_and_options_have_help(command: str) -> None:
    done = coopspider(command, "--help")
    assert done.returncode == 0 and f"usage: coopspider {command}" in done.stdout
    expected = {"report": "--days", "search": "--limit", "export": "--bom"}[command]
    assert expected in done.stdout


def test_report_dates_order_and_days_without_readings(tmp_path: Path, database_url: str) -> None:
    # Four new articles found one after the other: published on the 10th (the page printed a
    # date alone), the 20th at 08:30, without a date, and the 15th at a printed 00:00.
    printed = [
        ("201", "2025-03-10T00:00:00+07:00", "Ngày: 10/03/2025"),
        ("202", "2025-03-20T08:30:00+07:00", "20/03/2025 08:30"),
        ("203", None, "hôm kia"),
        ("204", "2025-03-15T00:00:00+07:00", "15/03/2025 00:00"),
    ]
    database = open_database(database_url)
    found_at = NOW - timedelta(hours=5)
    with database.begin() as session:
        run = start_run(
            session, site="thaibinh", spider="lienminh", base_url="http://x/", started_at=found_at
        )
        for index, (article_id, published_at, raw) in enumerate(printed):
            item = article(article_id, f"Bài {article_id}", "Nội dung.", fetched_at=found_at)
            store_articles(
                session, [{**item, "published_at": published_at, "published_raw": raw}], run
            )
            pk = session.scalars(select(Article.id).where(Article.article_id == article_id)).one()
            details = {"url": item["url"], "title": item["title"], "published_at": published_at}
            record_event(
                session,
                site="thaibinh",
                kind="new",
                run_id=run,
                article_pk=pk,
                details=details,
                detected_at=found_at + timedelta(minutes=index),
            )
        # Readings six and five days ago, then yesterday: three days in between have none.
        for days_ago, total in ((6, 1000), (5, 1300), (1, 2500)):
            moment = datetime.combine(NOW.date() - timedelta(days=days_ago), time(), UTC_PLUS_7)
            reading = {"site": "thaibinh", "url": "http://x/", "total": total, "online": 2}
            save_counter(session, {**reading, "observed_at": moment.isoformat()}, run)
    database.close()

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
    done = coopspider("report", "--out", str(tmp_path / "report"), "--days", "10", env=env)
    assert done.returncode == 0, done.stderr
    index = lxml_html.parse(str(tmp_path / "report" / "index.html")).getroot()
    listed = [
        " ".join(li.text_content().split())
        for li in index.xpath("//h2[@id='moi']/following-sibling::ul[1]/li")
    ]
    assert [line.split(" · ")[:2] for line in listed] == [
        ["20/03/2025", "Bài 202"],
        ["15/03/2025", "Bài 204"],
        ["10/03/2025", "Bài 201"],
        ["không rõ ngày", "Bài 203"],
    ]

    shown = {}
    for page in (tmp_path / "report" / "articles").glob("*.html"):
        root = lxml_html.parse(str(page)).getroot()
        meta = " ".join(
            root.xpath("//p[@class='meta'][contains(., 'Ngày đăng')]")[0].text_content().split()
        )
        shown[root.xpath("//h3")[-1].text_content()] = meta.split(" · ")[0]
    assert shown == {
        "Bài 201": "Ngày đăng: 10/03/2025",  # no time printed: no 00:00
        "Bài 202": "Ngày đăng: 20/03/2025 08:30",
        "Bài 203": "Ngày đăng: hôm kia",
        "Bài 204": "Ngày đăng: 15/03/2025 00:00",  # printed, so shown
    }

    chart = index.xpath("//svg[contains(@class, 'counter-chart')]")[0]
    gaps = chart.xpath(".//rect[@class='no-data']")
    assert gaps and all(float(gap.get("height")) > 100 for gap in gaps)  # a band, not a line
    legend = [" ".join(t.text_content().split()) for t in chart.xpath(".//g[@class='legend']/text")]
    assert legend == ["lượt truy cập trong ngày", "chưa có số liệu"]
    assert [t.text_content() for t in gaps[0].xpath("title")][0].endswith("chưa có số liệu")
