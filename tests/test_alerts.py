"""E-mail alerts: the digest, the message, delivery exactly once, and crawl health.

A real SMTP server (aiosmtpd) on 127.0.0.1 receives the mail and the tests read back what it got;
the archive is a real SQLite file or a fresh PostgreSQL schema (fixtures from test_storage).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from coopspider.monitor.alert_digest import (
    EventInput,
    HealthInput,
    build_digest,
    excerpt,
)
from coopspider.monitor.alert_health import RunFacts, judge_run
from coopspider.monitor.alert_job import CLAIM_TIMEOUT, send_alerts
from coopspider.monitor.alert_render import compose_message, render_html, subject
from coopspider.monitor.alert_send import DeliveryError, SmtpSettings, deliver
from coopspider.monitor.vocabulary import shorten_diff
from coopspider.monitor.worddiff import word_diff
from coopspider.sample_site import build_site, serve
from storage import (
    RUN_INTERRUPTED,
    AlertBatch,
    AlertBatchEvent,
    Article,
    Database,
    HealthIssue,
    create_batch,
    finish_run,
    open_database,
    record_event,
    record_run_health,
    register_channel,
    start_run,
    store_articles,
)
from storage.schema import crawl_runs
from tests.conftest import ROOT, scrapy_crawl
from tests.helpers import T0, free_port, make_article, wait_until
from tests.smtpserver import smtp_server

SITE = "thaibinh"
SENDER = "Coopspider <coopspider@example.org>"
RECIPIENTS = "tin@example.org, Ban biên tập <bbt@example.org>"
ARTICLES = [
    {
        "article_id": "2201",
        "title": "Hội nghị tổng kết công tác năm 2024 của Liên minh Hợp tác xã tỉnh",
        "published_at": "2025-01-09T08:00:00+07:00",
        "body": "Sáng ngày 9/1/2025, Liên minh Hợp tác xã tỉnh tổ chức hội nghị tổng kết.\n\n"
        "Đồng chí Chủ tịch phát biểu chỉ đạo hội nghị.\n\nĐoạn thứ ba không cần trong thư.",
    },
    {
        "article_id": "2202",
        "title": "HTX Đông Hải mở rộng vùng trồng ổi đạt chuẩn VietGAP",
        "published_at": "2025-01-12T08:00:00+07:00",
        "body": "Năm 2025, Hợp tác xã Đông Hải mở rộng vùng trồng ổi lên 30 ha.",
    },
]
HOSTILE = {
    "article_id": "2203",
    "title": '<script>alert("x")</script> Tôm & Cá: "ngon" \'nhất\'',
    "published_at": "2025-01-10T08:00:00+07:00",
    "body": '<img src=x onerror=alert(1)> Nội dung & "trích dẫn" </body>',
}


# -- a real SMTP server on 127.0.0.1 ---------------------------------------------------------------


# -- the archive -----------------------------------------------------------------------------------


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    opened = open_database(db_url)
    yield opened
    opened.close()


def article_url(article_id: str) -> str:
    return f"https://lienminhhtx.example/tin-tuc-su-kien/bai-{article_id}.html"


def crawl_run(
    database: Database,
    articles: list[dict[str, Any]],
    *,
    site: str = SITE,
    started_at: datetime = T0,
    status: str = "finished",
    stats: dict[str, Any] | None = None,
) -> tuple[int, dict[str, int]]:
    """A crawl run that stored `articles`; returns its id and each article's key by article id."""
    with database.begin() as session:
        run = start_run(
            session, site=site, spider="lienminh", base_url="http://x/", started_at=started_at
        )
        for fields in articles:
            article = make_article(site=site, url=article_url(fields["article_id"]), **fields)
            store_articles(session, [article], run)
        finish_run(
            session,
            run,
            finished_at=started_at + timedelta(minutes=5),
            status=status,
            finish_reason="finished" if status == "finished" else "shutdown",
            stats={"coopspider/articles/new": len(articles)} if stats is None else stats,
        )
        stored = session.scalars(select(Article).where(Article.site == site))
        return run, {article.article_id: article.id for article in stored}


def record_new(
    database: Database,
    run: int,
    keys: dict[str, int],
    articles: list[dict[str, Any]],
    site: str = SITE,
) -> None:
    """The "new" events the crawl (issue 4) records, with the details storage.changes documents."""
    with database.begin() as session:
        for fields in articles:
            record_event(
                session,
                site=site,
                kind="new",
                run_id=run,
                article_pk=keys[fields["article_id"]],
                details={
                    "url": article_url(fields["article_id"]),
                    "title": fields["title"],
                    "published_at": fields["published_at"],
                },
            )


def alert_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COOPSPIDER_")}
    env.update(
        COOPSPIDER_DATABASE_URL=database_url,
        COOPSPIDER_SMTP_HOST="127.0.0.1",
        COOPSPIDER_SMTP_PORT=str(port),
        COOPSPIDER_ALERT_FROM=SENDER,
        COOPSPIDER_ALERT_TO=RECIPIENTS,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def coopspider_alert(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coopspider.cli", "alert", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_for(port: int, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": SENDER,
        "recipients": ("tin@example.org",),
        "timeout": 20.0,
    }
    values.update(changes)
    return SmtpSettings(**values)


# -- the digest after new reports, once ------------------------------------------------------------


@pytest.mark.slow
def test_digest_after_new_reports_then_nothing(database: Database, db_url: str) -> None:
    run, keys = crawl_run(
        database,
        ARTICLES
        + [
            {
                "article_id": "2150",
                "title": "Tin cũ",
                "published_at": "2024-12-01T08:00:00+07:00",
                "body": "Bài cũ hơn.",
            }
        ],
    )
    record_new(database, run, keys, ARTICLES)
    with database.begin() as session:
        record_event(
            session,
            site=SITE,
            kind="changed",
            run_id=run,
            article_pk=keys["2150"],
            details={
                "url": article_url("2150"),
                "title": "Tin cũ",
                "from_version": 1,
                "to_version": 2,
                "fields": ["body"],
                "diff": {
                    "body": [
                        "Giá ổi năm nay là 20.000 đồng một cân.",
                        "Giá ổi năm nay là 25.000 đồng một cân.",
                    ]
                },
            },
        )
        record_event(
            session,
            site=SITE,
            kind="removed",
            run_id=run,
            details={
                "url": article_url("1999"),
                "title": "Tin đã gỡ",
                "reason": "gone",
                "status": 404,
            },
        )
        record_event(
            session,
            site=SITE,
            kind="counter_anomaly",
            run_id=run,
            details={"anomaly": "decrease", "total": 1200, "previous_total": 280451, "runs": 2},
        )

    with smtp_server() as mailbox:
        env = alert_env(db_url, mailbox.port)
        first = coopspider_alert(env)
        assert first.returncode == 0, first.stderr
        assert len(mailbox.received) == 1
        second = coopspider_alert(env)
        assert second.returncode == 0, second.stderr
        assert "Nothing to alert" in second.stdout
        assert len(mailbox.received) == 1

    mail = mailbox.received[0]
    assert mail.envelope_from == "coopspider@example.org"
    assert sorted(mail.envelope_to) == ["bbt@example.org", "tin@example.org"]
    message = mail.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["Subject"] == (
        "[coopspider] 2 tin mới, 1 tin được sửa, 1 tin bị gỡ, 1 bất thường bộ đếm – thaibinh"
    )
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Sent to" in first.stdout and "2 tin mới" in first.stdout

    body = mail.text
    # Sections in order; new reports newest first, with date, category, link and first lines.
    positions = [
        body.index(heading)
        for heading in (
            "TIN MỚI (2)",
            "TIN ĐƯỢC SỬA (1)",
            "TIN BỊ GỠ (1)",
            "BỘ ĐẾM TRUY CẬP BẤT THƯỜNG (1)",
        )
    ]
    assert positions == sorted(positions)
    assert body.index(ARTICLES[1]["title"]) < body.index(ARTICLES[0]["title"])
    assert "Ngày đăng: 09/01/2025 · Chuyên mục: tin-tuc-su-kien" in body
    assert "<https://lienminhhtx.example/tin-tuc-su-kien/bai-2201.html>" in body
    assert "Sáng ngày 9/1/2025, Liên minh Hợp tác xã tỉnh tổ chức hội nghị tổng kết." in body
    assert "Nội dung: Giá ổi năm nay là [-20.000-]{+25.000+} đồng một cân." in body
    assert "Tin đã gỡ (trang bài viết trả về lỗi 404)" in body
    assert "Bộ đếm truy cập giảm từ 280.451 xuống 1.200" in body
    assert "Tin cũ\n" not in body.split("TIN MỚI")[1].split("TIN ĐƯỢC SỬA")[0]

    html = mail.html
    assert '<a href="https://lienminhhtx.example/tin-tuc-su-kien/bai-2201.html">' in html
    assert '<del style="background:#f8d3d3;color:#7a1c1c">20.000</del>' in html
    assert "25.000</ins>" in html

    with database.session() as session:
        batch = session.scalars(select(AlertBatch)).one()
        assert (batch.status, batch.attempts, batch.message_id) == (
            "sent",
            1,
            message["Message-ID"],
        )
        assert batch.sent_at is not None
        assert len(session.scalars(select(AlertBatchEvent)).all()) == 5


@pytest.mark.slow
def test_vietnamese_subject_and_body_decode_exactly(database: Database, db_url: str) -> None:
    nfd_title = "Liên minh HTX tỉnh Thái Bình tổ chức Hội nghị"
    articles = [{**ARTICLES[0], "title": nfd_title}]
    run, keys = crawl_run(database, articles)
    record_new(database, run, keys, articles)
    with smtp_server() as mailbox:
        done = coopspider_alert(alert_env(db_url, mailbox.port))
    assert done.returncode == 0, done.stderr
    mail = mailbox.received[0]
    # On the wire: 7-bit ASCII only, encoded words in the headers, base64 UTF-8 parts.
    mail.raw.decode("ascii")
    raw_headers = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" in raw_headers.lower()
    assert mail.message["Subject"] == "[coopspider] 1 tin mới – thaibinh"
    assert mail.message["To"].addresses[1].display_name == "Ban biên tập"
    assert nfd_title in mail.text and nfd_title in mail.html
    assert "Sáng ngày 9/1/2025" in mail.text


def perl_decoded_subjects(raw_subjects: list[str]) -> list[str]:
    """Each raw Subject value (folded, encoded words) as Perl's Encode MIME-Header reads it."""
    script = 'print join("\\0", map { encode("UTF-8", decode("MIME-Header", $_)) } @ARGV)'
    done = subprocess.run(
        ["perl", "-MEncode", "-e", script, *raw_subjects], capture_output=True, check=True
    )
    return done.stdout.decode("utf-8").split("\0")


@pytest.mark.slow
def test_long_vietnamese_subjects_keep_every_space_when_folded() -> None:
    # A subject long enough to be folded, with a space at every place a fold can fall: Python's
    # default folder put some of them between two encoded words, where decoders drop them
    # ("1 bất thường bộ đếm" came back "bấtthường").
    health = [HealthInput("x", "run_failed", {}, datetime(2025, 1, 1, tzinfo=UTC))] * 2
    digests = []
    for sites in (["thaibinh"], ["caobang", "daknong"], ["thaibinh", "kontum", "camau", "hue"]):
        for new in (2, 12):
            events = [EventInput(sites[0], "new", {"title": "Tin", "url": "https://a/1"})] * new
            events.append(EventInput(sites[0], "changed", {"title": "Sửa", "url": "https://a/2"}))
            events.append(EventInput(sites[0], "counter_anomaly", {"anomaly": "reset"}))
            events += [EventInput(site, "removed", {"url": "https://b/1"}) for site in sites[1:]]
            digests.append(build_digest(events, health))
    subjects = [subject(digest) for digest in digests]
    assert any("1 bất thường bộ đếm, 2 sự cố thu thập – thaibinh" in s for s in subjects)
    assert all(len(s) > 78 for s in subjects)
    with smtp_server() as mailbox:
        for index, digest in enumerate(digests):
            message = compose_message(
                digest,
                sender=SENDER,
                recipients=["tin@example.org"],
                message_id=f"<{index}@example.org>",
                date=datetime(2025, 1, 1, tzinfo=UTC),
            )
            deliver(settings_for(mailbox.port), message, lambda refused: None)
    raw_subjects = []
    for mail in mailbox.received:
        headers = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        folded = re.search(r"^Subject: (.*?)\r\n(?![ \t])", headers + "\r\n", re.M | re.S)
        assert folded is not None
        raw = folded[1]
        assert "\r\n " in raw  # folded, so the test is about folding
        assert all(len(line) <= 78 for line in raw.split("\r\n"))
        raw_subjects.append(raw)
    assert [mail.message["Subject"] for mail in mailbox.received] == subjects
    assert perl_decoded_subjects(raw_subjects) == subjects


@pytest.mark.slow
def test_hostile_page_text_is_escaped_in_html(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, [HOSTILE])
    record_new(database, run, keys, [HOSTILE])
    with database.begin() as session:
        record_event(
            session,
            site=SITE,
            kind="restored",
            run_id=run,
            details={"url": 'javascript:alert("x")', "title": 'Bài <b>đăng lại</b> & "đã sửa"'},
        )
    with smtp_server() as mailbox:
        done = coopspider_alert(alert_env(db_url, mailbox.port))
    assert done.returncode == 0, done.stderr
    html = mailbox.received[0].html
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; "
        "Tôm &amp; Cá: &#34;ngon&#34; &#39;nhất&#39;" in html
    )
    assert (
        "&lt;img src=x onerror=alert(1)&gt; Nội dung &amp; &#34;trích dẫn&#34; &lt;/body&gt;"
        in html
    )

    links: list[str] = []
    tags: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            links.extend(value or "" for name, value in attrs if name == "href")

    Collector().feed(html)
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "h2",
        "h3",
        "ul",
        "li",
        "strong",
        "a",
        "br",
        "span",
        "em",
        "ins",
        "del",
        "p",
        "hr",
    }
    assert links == ["https://lienminhhtx.example/tin-tuc-su-kien/bai-2203.html"]
    # The plain text keeps the page text as it is.
    assert HOSTILE["title"] in mailbox.received[0].text


# -- the server down or refusing -------------------------------------------------------------------


@pytest.mark.slow
def test_server_down_for_one_run_then_delivered_once(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES[:1])
    port = free_port()
    env = alert_env(db_url, port)
    down = coopspider_alert(env)
    assert down.returncode == 3
    assert "alert not sent: cannot reach the SMTP server 127.0.0.1:" in down.stderr
    assert "the same changes go out with the next successful" in down.stderr
    assert "Traceback" not in down.stderr
    with database.session() as session:  # nothing marked: the changes wait for the next run
        assert session.scalars(select(AlertBatch)).all() == []

    record_new(database, run, keys, ARTICLES[1:])  # found meanwhile: the same message carries it
    with smtp_server(port) as mailbox:
        assert coopspider_alert(env).returncode == 0
        assert coopspider_alert(env).returncode == 0
    assert len(mailbox.received) == 1
    body = mailbox.received[0].text
    assert all(body.count(article["title"]) == 1 for article in ARTICLES)


@pytest.mark.slow
def test_server_refusing_the_message(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES)
    with smtp_server() as mailbox:
        env = alert_env(db_url, mailbox.port)
        mailbox.refuse = "554 5.7.1 Rejected: thư bị từ chối"
        refused = coopspider_alert(env)
        assert refused.returncode == 3
        assert "refused the message: 554 5.7.1 Rejected" in refused.stderr
        mailbox.refuse = None
        accepted = coopspider_alert(env)
        assert accepted.returncode == 0, accepted.stderr
        assert coopspider_alert(env).returncode == 0
    assert len(mailbox.received) == 1
    assert "2 tin mới" in mailbox.received[0].message["Subject"]


@pytest.mark.slow
def test_no_recipients_is_said_clearly(db_url: str) -> None:
    env = alert_env(db_url, free_port())
    del env["COOPSPIDER_ALERT_TO"]
    done = coopspider_alert(env)
    assert done.returncode == 2
    assert "no recipients configured: set COOPSPIDER_ALERT_TO" in done.stderr
    assert coopspider_alert(env, "--help").returncode == 0


@pytest.mark.slow
def test_dry_run_prints_and_changes_nothing(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES)
    env = alert_env(db_url, free_port())
    del env["COOPSPIDER_ALERT_TO"]
    for _ in range(2):
        done = coopspider_alert(env, "--dry-run")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Subject: [coopspider] 2 tin mới – thaibinh\n")
        assert ARTICLES[0]["title"] in done.stdout
    with database.session() as session:
        assert session.scalars(select(AlertBatch)).all() == []


@pytest.mark.slow
def test_site_option_sends_only_that_site(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, ARTICLES[:1])
    record_new(database, run, keys, ARTICLES[:1])
    other_run, other_keys = crawl_run(database, ARTICLES[1:], site="namdinh")
    record_new(database, other_run, other_keys, ARTICLES[1:], site="namdinh")
    with smtp_server() as mailbox:
        env = alert_env(db_url, mailbox.port)
        assert coopspider_alert(env, "--site", "namdinh").returncode == 0
        assert coopspider_alert(env, "--site", "namdinh").returncode == 0
        assert coopspider_alert(env).returncode == 0
    assert [mail.message["Subject"] for mail in mailbox.received] == [
        "[coopspider] 1 tin mới – namdinh",
        "[coopspider] 1 tin mới – thaibinh",
    ]


@pytest.mark.slow
def test_alert_sends_with_the_settings_config_check_shows(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    """`config check` and `alert` read one model: the port and the default sender it shows are
    the ones the message goes out with."""
    run, keys = crawl_run(database, ARTICLES[:1])
    record_new(database, run, keys, ARTICLES[:1])
    with smtp_server() as mailbox:
        config = tmp_path / "coopspider.toml"
        config.write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {mailbox.port}\n\n'
            '[alerts]\nto = ["tin@example.org"]\n',
            encoding="utf-8",
        )
        env = alert_env(db_url, mailbox.port)
        for variable in ("COOPSPIDER_SMTP_HOST", "COOPSPIDER_SMTP_PORT", "COOPSPIDER_ALERT_FROM"):
            del env[variable]
        del env["COOPSPIDER_ALERT_TO"]
        check = subprocess.run(
            [sys.executable, "-m", "coopspider.cli", "config", "check", "--config", str(config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stderr
        shown = dict(line.split(": ", 1) for line in check.stdout.splitlines()[1:] if ": " in line)
        default_sender = f"coopspider@{socket.gethostname()}"
        assert shown["smtp.port"] == f"{mailbox.port}  ({config}:3)"
        assert shown["alerts.from"] == f"{default_sender}  (default)"
        done = coopspider_alert(env, "--config", str(config))
    assert done.returncode == 0, done.stderr
    [mail] = mailbox.received
    assert mail.envelope_from == default_sender and mail.message["From"] == default_sender
    assert mail.envelope_to == ["tin@example.org"]


# -- exactly once under concurrency and crashes ----------------------------------------------------


@pytest.mark.slow
def test_concurrent_runs_never_send_a_change_twice(database: Database) -> None:
    """Threads record changes and alert at the same time; every change arrives exactly once."""
    run, _ = crawl_run(database, [])
    workers, rounds = 4, 5
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    with smtp_server() as mailbox:
        mailbox.delay = 0.05
        settings = settings_for(mailbox.port)

        def work(worker: int) -> None:
            try:
                barrier.wait()
                for step in range(rounds):
                    with database.begin() as session:
                        record_event(
                            session,
                            site=SITE,
                            kind="removed",
                            run_id=run,
                            details={
                                "url": f"https://x/{worker}-{step}",
                                "title": f"Tin-{worker}-{step}-hết",
                                "reason": "unlisted",
                            },
                        )
                    outcome = send_alerts(database, settings)
                    assert outcome.error is None, outcome.error
            except BaseException as error:  # reported to the main thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert send_alerts(database, settings).nothing_to_send
    assert errors == []
    texts = "".join(mail.text for mail in mailbox.received)
    for worker in range(workers):
        for step in range(rounds):
            assert texts.count(f"Tin-{worker}-{step}-hết") == 1
    with database.session() as session:
        assert {batch.status for batch in session.scalars(select(AlertBatch))} == {"sent"}


@pytest.mark.slow
def test_two_processes_at_once_send_each_change_once(database: Database, db_url: str) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES)
    with smtp_server() as mailbox:
        mailbox.delay = 0.5  # both processes are up while the first message is on its way
        env = alert_env(db_url, mailbox.port)
        command = [sys.executable, "-m", "coopspider.cli", "alert"]
        processes = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert len(mailbox.received) == 1
    assert sorted("Nothing to alert" in out for out, _ in outputs) == [False, True]


def test_a_batch_another_machine_is_sending_is_left_alone_until_its_claim_expires(
    database: Database,
) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES)
    with database.begin() as session:
        email = register_channel(session, "email", "e-mail", now=datetime.now(UTC))
        batch = create_batch(
            session,
            channel=email,
            site=None,
            owner="another-machine:4242:token",
            created_at=datetime.now(UTC),
            message_id="<claimed@example.org>",
        )
        assert batch is not None
    with smtp_server() as mailbox:
        settings = settings_for(mailbox.port)
        assert send_alerts(database, settings).nothing_to_send
        with database.begin() as session:
            claimed = session.get(AlertBatch, batch.id)
            assert claimed is not None
            claimed.claimed_at = datetime.now(UTC) - CLAIM_TIMEOUT - timedelta(minutes=1)
        outcome = send_alerts(database, settings)
    assert [(sent.message_id, sent.resent) for sent in outcome.sent] == [
        ("<claimed@example.org>", True)
    ]
    assert len(mailbox.received) == 1


class DatabaseLock:
    """Holds a lock that makes the alert process wait before it can mark its batch sent."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self.connection: Any = None

    def acquire(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self.connection = sqlite3.connect(
                self.url.database, isolation_level=None, check_same_thread=False
            )
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            self.connection = create_engine(self.url).connect()
            self.connection.exec_driver_sql("LOCK TABLE alert_batches IN EXCLUSIVE MODE")

    def holds_up(self, process: subprocess.Popen) -> bool:
        """Whether `process` waits for this lock. PostgreSQL lists its request on the table as not
        granted; on SQLite it sleeps in the kernel, which the alert command only does in SQLite's
        busy handler."""
        if self.url.get_backend_name() == "sqlite":
            return Path(f"/proc/{process.pid}/wchan").read_text() == "hrtimer_nanosleep"
        return bool(
            self.connection.exec_driver_sql(
                "SELECT count(*) FROM pg_locks"
                " WHERE NOT granted AND relation = 'alert_batches'::regclass"
            ).scalar()
        )

    def release(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self.connection.execute("ROLLBACK")
            self.connection.close()
        else:
            self.connection.rollback()
            engine = self.connection.engine
            self.connection.close()
            engine.dispose()


@pytest.mark.slow
def test_killed_after_acceptance_before_commit_sends_once_more_and_loses_nothing(
    database: Database,
    db_url: str,
) -> None:
    run, keys = crawl_run(database, ARTICLES)
    record_new(database, run, keys, ARTICLES)
    lock = DatabaseLock(db_url)
    with smtp_server() as mailbox:
        env = alert_env(db_url, mailbox.port)
        mailbox.before_accept = lock.acquire
        process = subprocess.Popen(
            [sys.executable, "-m", "coopspider.cli", "alert"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(lambda: mailbox.received, "the alert to reach the server", timeout=60)
            wait_until(lambda: lock.holds_up(process), "the alert to wait for our lock", 30)
            assert process.poll() is None
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            lock.release()
        mailbox.before_accept = None
        with database.session() as session:
            assert session.scalars(select(AlertBatch.status)).one() == "pending"
        again = coopspider_alert(env)
        assert again.returncode == 0, again.stderr
        assert "Sent again" in again.stdout
        assert coopspider_alert(env).returncode == 0
    # One duplicate at most, under the same Message-ID; every change delivered.
    assert len(mailbox.received) == 2
    first, second = (mail.message for mail in mailbox.received)
    assert first["Message-ID"] == second["Message-ID"]
    for mail in mailbox.received:
        assert all(article["title"] in mail.text for article in ARTICLES)


# -- baseline and crawl health, from real crawls of the sample site --------------------------------


@pytest.mark.slow
def test_baseline_message_and_health_alerts_from_real_crawls(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site()
    with serve(site) as server, smtp_server() as mailbox:
        env = alert_env(database_url, mailbox.port)

        def crawl(number: int, *arguments: str) -> int:
            result = scrapy_crawl(
                server.base_url,
                database_url,
                tmp_path / f"items{number}.jsonl",
                "-a",
                "site=sample",
                *arguments,
            )
            assert result.returncode == 0, result.log[-3000:]
            database = open_database(database_url)
            with database.session() as session:
                run_id = session.scalar(text("SELECT max(id) FROM crawl_runs"))
            database.close()
            return run_id

        crawl(1)  # the first crawl of a site records itself as the baseline
        assert coopspider_alert(env).returncode == 0
        assert len(mailbox.received) == 1
        baseline = mailbox.received[0]
        assert (
            baseline.message["Subject"]
            == f"[coopspider] bắt đầu theo dõi, đã lưu {len(site.articles)} bài – sample"
        )
        assert f"đã lưu {len(site.articles)} bài viết làm mốc so sánh" in baseline.text
        assert not any(article.title in baseline.text for article in site.articles)
        assert len(baseline.text.splitlines()) < 10

        # A quiet site: the repeat crawl is incremental and reads no article page at all, but
        # its listings still show the articles, so nothing is wrong and nothing is sent.
        site.counter_total += 500
        crawl(2)
        quiet = coopspider_alert(env)
        assert quiet.returncode == 0 and "Nothing to alert" in quiet.stdout, quiet.stdout
        assert len(mailbox.received) == 1

        for article in site.articles:  # a redesign the page objects no longer read
            article.title, article.paragraphs = "", []
        site.counter_total += 500
        crawl(3, "-a", "full=1")  # fetch every article again, not only the recent ones
        assert coopspider_alert(env).returncode == 0
        assert len(mailbox.received) == 2
        broken = mailbox.received[1]
        assert broken.message["Subject"] == "[coopspider] 1 sự cố thu thập – sample"
        assert (
            f"{len(site.articles)} trên {len(site.articles)} trang bài viết không đọc được"
            in broken.text
        )

        site.counter_total += 500  # visitors keep coming: no frozen-counter anomaly either
        crawl(4, "-a", "full=1")  # still broken: already alerted
        done = coopspider_alert(env)
        assert done.returncode == 0 and "Nothing to alert" in done.stdout
        assert len(mailbox.received) == 2


@pytest.mark.slow
def test_failed_and_unfinished_runs_and_unparsed_dates_are_alerted_once(
    database: Database,
) -> None:
    crawl_run(database, ARTICLES)
    crawl_run(database, [], started_at=T0 + timedelta(days=1), status="failed", stats={})
    crawl_run(database, [], started_at=T0 + timedelta(days=2), status="failed", stats={})
    with database.begin() as session:  # killed outright long ago: never closed its record
        start_run(session, site="namdinh", spider="lienminh", base_url="http://y/", started_at=T0)
    crawl_run(
        database,
        [],
        site="sonla",
        stats={"coopspider/articles/new": 20, "coopspider/date_unparsed": 7},
    )
    with smtp_server() as mailbox:
        settings = settings_for(mailbox.port)
        outcome = send_alerts(database, settings)
        assert outcome.error is None and len(outcome.sent) == 1
        assert send_alerts(database, settings).nothing_to_send
    body = mailbox.received[0].text
    assert body.count("không hoàn tất (lý do: shutdown)") == 1  # two failed runs, one problem
    assert "Lần thu thập bắt đầu lúc 01/03/2025 08:00 không kết thúc" in body
    assert "không hiểu được ngày đăng của 7 trên 20 bài" in body
    with database.session() as session:
        issues = session.scalars(select(HealthIssue).order_by(HealthIssue.id)).all()
        assert [(issue.site, issue.kind) for issue in issues] == [
            (SITE, "run_failed"),
            ("namdinh", "run_failed"),
            ("sonla", "dates_unparsed"),
        ]


@pytest.mark.slow
def test_a_problem_that_ends_and_comes_back_is_alerted_again(
    database: Database,
) -> None:
    with smtp_server() as mailbox:
        settings = settings_for(mailbox.port)
        for day, status in enumerate(["failed", "finished", "failed"]):
            crawl_run(
                database,
                ARTICLES if status == "finished" else [],
                started_at=T0 + timedelta(days=day),
                status=status,
                stats=None if status == "finished" else {},
            )
            send_alerts(database, settings)
    assert [mail.message["Subject"] for mail in mailbox.received] == [
        "[coopspider] 1 sự cố thu thập – thaibinh"
    ] * 2


# -- TLS, login, secrets ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert file, key file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coopspider test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


PASSWORD = "s3cr3t-P@ss:word"


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"alerts"
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.slow
def test_tls_and_login_keep_the_password_secret(
    security: str, certificate: tuple[Path, Path], tmp_path: Path, database_url: str
) -> None:
    import ssl

    cert_file, key_file = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    if security == "starttls":
        tls = {"tls_context": server_context, "require_starttls": True}
    else:
        # aiosmtpd cannot tell its implicit-TLS connections are encrypted: let it offer AUTH.
        tls = {"ssl_context": server_context, "auth_require_tls": False}
    opened = open_database(database_url)
    run, keys = crawl_run(opened, ARTICLES)
    record_new(opened, run, keys, ARTICLES)
    with smtp_server(authenticator=check_login, auth_required=True, **tls) as mailbox:
        env = alert_env(
            database_url,
            mailbox.port,
            COOPSPIDER_SMTP_SECURITY=security,
            COOPSPIDER_SMTP_USER="alerts",
            COOPSPIDER_SMTP_PASSWORD="wrong-" + PASSWORD,
            SSL_CERT_FILE=str(cert_file),
        )
        wrong = coopspider_alert(env)
        assert wrong.returncode == 3
        assert "refused the login of 'alerts': 535 5.7.8 Authentication credentials invalid" in (
            wrong.stderr
        )
        untrusted = coopspider_alert({**env, "SSL_CERT_FILE": str(tmp_path / "none.pem")})
        assert untrusted.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        env["COOPSPIDER_SMTP_PASSWORD"] = PASSWORD
        right = coopspider_alert(env)
        assert right.returncode == 0, right.stderr
    assert len(mailbox.received) == 1
    for output in (wrong.stdout, wrong.stderr, right.stdout, right.stderr, untrusted.stderr):
        assert PASSWORD not in output
    dumped = []
    with opened.session() as session:
        for table in inspect(session.connection()).get_table_names():
            dumped += [repr(row) for row in session.execute(text(f"SELECT * FROM {table}"))]
    assert dumped and not any(PASSWORD in row for row in dumped)
    opened.close()


def test_password_is_scrubbed_from_errors_and_repr() -> None:
    settings = settings_for(free_port(), user="u", password="pa55-word")
    assert "pa55-word" not in repr(settings)
    digest = build_digest([EventInput(SITE, "baseline", {"articles": 1})])
    message = compose_message(
        digest,
        sender=SENDER,
        recipients=["tin@example.org"],
        message_id="<1@example.org>",
        date=datetime.now(UTC),
    )
    with smtp_server() as mailbox:
        mailbox.refuse = "554 no thanks pa55-word"  # a server echoing what it was told
        with pytest.raises(DeliveryError) as raised:
            deliver(replace(settings, port=mailbox.port, user=None), message, lambda refused: None)
    assert "pa55-word" not in str(raised.value)
    assert "554 no thanks ********" in str(raised.value)
    assert not raised.value.maybe_delivered


# -- pure parts ------------------------------------------------------------------------------------


def test_shorten_diff_keeps_the_edits_and_some_context() -> None:
    words = [f"từ{n}" for n in range(100)]
    old = " ".join(words)
    new = " ".join(words[:50] + ["MỚI"] + words[50:])
    pieces = shorten_diff(word_diff(old, new), context=3)
    joined = "".join(text for _, text in pieces)
    assert [operation for operation, _ in pieces] == ["equal", "insert", "equal"]
    assert pieces[1][1].strip() == "MỚI"
    assert joined.startswith("… từ47 từ48 từ49") and joined.endswith("từ50 từ51 từ52 …")
    short = word_diff("một hai", "một ba")
    assert shorten_diff(short) == short


def test_excerpt_takes_the_first_lines() -> None:
    text = "Dòng đầu.\n\nDòng hai khá dài " + "chữ " * 200 + "\n\nDòng ba."
    cut = excerpt(text, limit=60)
    assert cut.startswith("Dòng đầu.\nDòng hai khá dài") and cut.endswith("…")
    assert len(cut) <= 62 and "Dòng ba" not in cut
    assert excerpt("Ngắn.\n\nHai.") == "Ngắn.\nHai."


def test_digest_order_and_subject_for_several_sites() -> None:
    events = [
        EventInput(
            "b",
            "new",
            {"url": "https://b/1", "title": "Cũ", "published_at": "2024-01-01T00:00:00+07:00"},
        ),
        EventInput("a", "new", {"url": "https://a/2", "title": "Không ngày", "published_at": None}),
        EventInput(
            "a",
            "new",
            {"url": "https://a/3", "title": "Mới", "published_at": "2025-01-01T00:00:00+07:00"},
        ),
        EventInput("c", "baseline", {"articles": 5}),
        EventInput("d", "removed", {"url": "https://d/1", "title": "Gỡ", "reason": "unlisted"}),
    ]
    health = [
        HealthInput("a", "run_failed", {"reason": "shutdown"}, datetime(2025, 1, 1, tzinfo=UTC))
    ]
    digest = build_digest(events, health)
    assert [report.title for report in digest.new] == ["Mới", "Cũ", "Không ngày"]
    assert digest.sites == ["a", "b", "c", "d"]
    assert subject(digest) == (
        "[coopspider] bắt đầu theo dõi, đã lưu 5 bài, 3 tin mới, 1 tin bị gỡ, 1 sự cố thu thập"
        " – a, b, c và 1 trang khác"
    )
    html = render_html(digest)
    assert html.index("Trang a") < html.index("Trang b") < html.index("Trang d")
    with pytest.raises(ValueError, match="unknown change event kind"):
        build_digest([EventInput("a", "moved", {})])


def run_facts(
    status: str = "finished", archived: int = 0, stale: bool = False, **stats: int
) -> RunFacts:
    return RunFacts(
        status=status,
        finish_reason="shutdown" if status == "failed" else None,
        started_at=datetime(2025, 1, 1, tzinfo=UTC),
        stats={f"coopspider/{key.replace('__', '/')}": value for key, value in stats.items()},
        archived_before=archived,
        stale=stale,
    )


@pytest.mark.parametrize(
    ("facts", "problems"),
    [
        (run_facts(archived=24, articles__unchanged=24), set()),
        (run_facts(archived=24), {"no_articles"}),
        (run_facts(archived=24, listings__articles_listed=40), set()),  # incremental, quiet
        (run_facts(archived=0), set()),
        (run_facts("failed", archived=24), {"run_failed"}),
        (run_facts(articles__new=30, pages__unparsed=2), set()),
        (run_facts(articles__new=30, pages__unparsed=4), {"pages_unparsed"}),
        (run_facts(articles__new=300, pages__unparsed=4), set()),
        (run_facts(articles__new=10, date_unparsed=3), {"dates_unparsed"}),
        (run_facts("running", archived=9, stale=True), {"run_failed"}),
        (run_facts("running", archived=9), set()),
    ],
)
def test_judge_run(facts: RunFacts, problems: set[str]) -> None:
    health = judge_run(facts)
    assert set(health.problems) == problems
    assert set(health.problems) <= health.judged


def test_an_interrupted_run_opens_and_ends_no_health_problem() -> None:
    # Ctrl-C after 2 of 30 pages, none parsed yet: none of it is the scraper's fault.
    facts = replace(
        run_facts("failed", archived=24, pages__unparsed=5), finish_reason=RUN_INTERRUPTED
    )
    health = judge_run(facts)
    assert health.problems == {} and health.judged == frozenset()
    assert judge_run(replace(facts, finish_reason="shutdown")).problems.keys() == {
        "run_failed",
        "pages_unparsed",
    }


def test_dates_are_shown_in_vietnam_time() -> None:
    late = datetime(2025, 1, 9, 20, 30, tzinfo=UTC)  # 03:30 on the 10th in Vietnam
    digest = build_digest(
        [
            EventInput(
                SITE, "new", {"url": "https://x/1", "title": "T", "published_at": late.isoformat()}
            )
        ]
    )
    assert "10/01/2025" in render_html(digest)


def test_html_diff_keeps_paragraph_breaks_and_escapes_both_sides() -> None:
    edit = {"url": "https://x/1", "title": "T", "diff": {"body": ["a\n\nb <c>", "a\n\nb <d>"]}}
    html = render_html(build_digest([EventInput(SITE, "changed", edit)]))
    assert "<em>Nội dung:</em> a<br>b <del" in html
    assert "&lt;c&gt;</del>" in html and "&lt;d&gt;</ins>" in html


@pytest.mark.slow
def test_unknown_health_kinds_are_refused(database: Database) -> None:
    run, _ = crawl_run(database, [])
    with database.session() as session:
        crawl = session.execute(select(crawl_runs).where(crawl_runs.c.id == run)).one()
        with pytest.raises(ValueError, match="unknown health kinds"):
            record_run_health(
                session, crawl, judged={"bogus"}, problems={}, checked_at=datetime.now(UTC)
            )


def test_a_site_that_was_down_is_said_plainly() -> None:
    from coopspider.monitor.alert_digest import HealthProblem
    from coopspider.monitor.alert_render import health_sentence

    started = datetime(2025, 3, 2, 1, tzinfo=UTC)
    down = HealthProblem("hanoi", "run_failed", {"reason": "home_page_unread"}, started)
    assert health_sentence(down) == (
        "Lần thu thập lúc 02/03/2025 08:00 không đọc được trang chủ: trang có thể đang ngừng "
        "hoạt động hoặc đã đổi địa chỉ."
    )
    other = HealthProblem("hanoi", "run_failed", {"reason": "shutdown"}, started)
    assert health_sentence(other).endswith("không hoàn tất (lý do: shutdown).")
