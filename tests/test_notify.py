"""Alerts through Apprise channels beside e-mail: each digest to each channel once, a failed
channel retried and merged with the next run, secrets of the URLs never shown.

Real parts: Apprise's json:// target POSTs to an http.server on 127.0.0.1 that records what it
gets (or answers 500), the aiosmtpd server of tests/smtpserver.py receives the e-mail, and the
archive is a SQLite file or a PostgreSQL schema (the `db_url` fixture runs each test on both).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from coopspider.config import ConfigError, NotifyTarget, SiteConfig, describe, load_config
from coopspider.cycle import AlertStep, RunContext
from coopspider.monitor.alert_job import send_alerts
from coopspider.monitor.alert_notify import notify
from coopspider.monitor.alert_render import short_message
from coopspider.monitor.alert_send import SmtpSettings
from coopspider.monitor.vocabulary import feed_link_sentence, report_link_sentence
from storage import (
    AlertBatch,
    AlertChannel,
    Article,
    Database,
    downgrade_database,
    finish_run,
    open_database,
    record_event,
    start_run,
    store_articles,
    upgrade_database,
)
from tests.helpers import T0, clean_env, coopspider, make_article
from tests.smtpserver import smtp_server

SITE = "thaibinh"
REPORT_URL = "https://bao-cao.example.org/coopspider/"
SECRET = "s3cr3t-T0ken"


# -- a webhook receiver on 127.0.0.1 ---------------------------------------------------------------


@dataclass
class Hooks:
    """What each path received (JSON bodies, in order); the paths in `failing` answer 500."""

    port: int = 0
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def url(self, path: str, login: str = "") -> str:
        return f"json://{login}127.0.0.1:{self.port}/{path}"

    def target(self, path: str, login: str = "") -> NotifyTarget:
        config = load_config(None, {"COOPSPIDER_NOTIFY": self.url(path, login)})
        return config.alerts.notify[0]

    def got(self, path: str) -> list[dict[str, Any]]:
        return self.received.get(path, [])


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    state = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path = self.path.strip("/")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path in state.failing:
                self.send_response(500)
                self.end_headers()
                return
            state.received.setdefault(path, []).append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- the archive -----------------------------------------------------------------------------------


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    opened = open_database(db_url)
    yield opened
    opened.close()


def crawl_with_news(database: Database, article_ids: list[str], started_at: datetime) -> None:
    """A finished crawl that stored these articles and recorded them as new."""
    with database.begin() as session:
        run = start_run(
            session, site=SITE, spider="lienminh", base_url="http://x/", started_at=started_at
        )
        for article_id in article_ids:
            url = f"https://lienminhhtx.example/bai-{article_id}.html"
            title = f"Tin số {article_id} của Liên minh HTX"
            store_articles(
                session,
                [make_article(site=SITE, article_id=article_id, url=url, title=title)],
                run,
            )
            article = session.scalars(
                select(Article).where(Article.site == SITE, Article.article_id == article_id)
            ).one()
            record_event(
                session,
                site=SITE,
                kind="new",
                run_id=run,
                article_pk=article.id,
                details={"url": url, "title": title, "published_at": "2025-01-09T08:00:00+07:00"},
            )
        finish_run(
            session,
            run,
            finished_at=started_at + timedelta(minutes=5),
            status="finished",
            finish_reason="finished",
            stats={"coopspider/articles/new": len(article_ids)},
        )


def unique(name: str) -> str:
    """A webhook path of its own: the receiver serves every test of the module."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def smtp(port: int, *recipients: str) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        sender="coopspider@example.org",
        recipients=recipients,
        timeout=20.0,
    )


# -- exactly once per channel ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_failed_channel_is_retried_merged_while_the_others_get_each_digest_once(
    database: Database, hooks: Hooks
) -> None:
    good, bad = unique("good"), unique("bad")
    hooks.failing.add(bad)
    targets = (hooks.target(good), hooks.target(bad))
    crawl_with_news(database, ["1", "2"], T0)
    with smtp_server() as mailbox:
        settings = smtp(mailbox.port, "tin@example.org")
        first = send_alerts(database, settings, notify_targets=targets, link=REPORT_URL)

        assert [sent.channel for sent in first.sent] == ["e-mail", targets[0].shown]
        assert [failure.channel for failure in first.failures] == [targets[1].shown]
        assert "500" in first.failures[0].error
        assert len(mailbox.received) == 1 and len(hooks.got(good)) == 1 and not hooks.got(bad)
        message = hooks.got(good)[0]
        assert message["title"] == f"[coopspider] 2 tin mới – {SITE}"
        assert message["message"].splitlines() == [
            f"{SITE}: 2 tin mới",
            report_link_sentence(REPORT_URL),
            feed_link_sentence(REPORT_URL + "feed.atom"),
        ]

        # The next crawl finds one more report; the bad endpoint works again.
        crawl_with_news(database, ["3"], T0 + timedelta(days=1))
        hooks.failing.discard(bad)
        second = send_alerts(database, settings, notify_targets=targets, link=REPORT_URL)

        assert not second.failures
        # E-mail and the good channel get only what is new; the bad one everything, merged.
        assert "1 tin mới" in mailbox.received[1].message["Subject"]
        assert len(mailbox.received) == 2
        assert [m["title"] for m in hooks.got(good)][1:] == [f"[coopspider] 1 tin mới – {SITE}"]
        assert [m["title"] for m in hooks.got(bad)] == [f"[coopspider] 3 tin mới – {SITE}"]

        third = send_alerts(database, settings, notify_targets=targets, link=REPORT_URL)
    assert third.nothing_to_send
    assert (len(mailbox.received), len(hooks.got(good)), len(hooks.got(bad))) == (2, 2, 1)


def test_a_channel_added_later_gets_what_is_pending_not_the_history(
    database: Database, hooks: Hooks
) -> None:
    late = unique("late")
    crawl_with_news(database, ["1", "2"], T0)
    with smtp_server() as mailbox:
        settings = smtp(mailbox.port, "tin@example.org")
        assert len(send_alerts(database, settings).sent) == 1
        target = hooks.target(late)
        assert send_alerts(database, settings, notify_targets=(target,)).nothing_to_send
        crawl_with_news(database, ["3"], T0 + timedelta(days=1))
        outcome = send_alerts(database, settings, notify_targets=(target,))
    assert [sent.channel for sent in outcome.sent] == ["e-mail", target.shown]
    assert [m["title"] for m in hooks.got(late)] == [f"[coopspider] 1 tin mới – {SITE}"]
    assert "Xem chi tiết" not in hooks.got(late)[0]["message"]  # no report URL configured


def test_dry_run_shows_each_channel_and_writes_nothing(database: Database, hooks: Hooks) -> None:
    crawl_with_news(database, ["1"], T0)
    target = hooks.target("dry", login=f"editor:{SECRET}@")
    outcome = send_alerts(
        database, smtp(25, "tin@example.org"), notify_targets=(target,), dry_run=True
    )
    assert len(outcome.previews) == 2
    assert outcome.previews[0].startswith("Subject: [coopspider] 1 tin mới")
    assert outcome.previews[1].startswith(f"Apprise: {target.shown}\n")
    assert SECRET not in "".join(outcome.previews) and "editor:****@" in target.shown
    with database.session() as session:
        assert session.scalars(select(AlertBatch)).all() == []
        assert session.scalars(select(AlertChannel)).all() == []


# -- the command -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_alert_works_with_only_apprise_channels_and_masks_their_secrets(
    db_url: str, hooks: Hooks, tmp_path: Path
) -> None:
    path = unique("cmd")
    database = open_database(db_url)
    try:
        crawl_with_news(database, ["1"], T0)
    finally:
        database.close()
    failing = hooks.url(path + "-down", login=f"editor:{SECRET}@")
    hooks.failing.add(path + "-down")
    env = {
        **clean_env(),
        "COOPSPIDER_DATABASE_URL": db_url,
        "COOPSPIDER_NOTIFY": f"{hooks.url(path)}, {failing}",
        "COOPSPIDER_REPORT_URL": REPORT_URL,
    }
    done = coopspider("alert", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert f"Sent to json://127.0.0.1:{hooks.port}/{path}: [coopspider] 1 tin mới" in done.stdout
    assert f"alert not sent to json://editor:****@127.0.0.1:{hooks.port}/{path}-down" in (
        done.stderr
    )
    assert SECRET not in done.stdout + done.stderr
    assert [m["title"] for m in hooks.got(path)] == [f"[coopspider] 1 tin mới – {SITE}"]

    checked = coopspider("config", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert SECRET not in checked.stdout
    assert f"alerts.notify: json://127.0.0.1:{hooks.port}/{path}, json://editor:****@" in (
        checked.stdout
    )
    assert f"report.url: {REPORT_URL}  (COOPSPIDER_REPORT_URL)" in checked.stdout

    bad = coopspider("alert", env={**env, "COOPSPIDER_NOTIFY": f"tgrm://{SECRET}/1"}, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == "coopspider: error: invalid configuration:"
    assert bad.stderr.splitlines()[1:] == [
        "  environment variable COOPSPIDER_NOTIFY: item 1 (a tgrm:// URL) is not an Apprise URL"
        " Apprise can use (unknown service, or a part missing), such as tgram://BOT_TOKEN/CHAT_ID,"
        " slack://TOKEN_A/TOKEN_B/TOKEN_C/#channel or json://host/path"
    ]
    assert SECRET not in bad.stderr


# -- the configuration -----------------------------------------------------------------------------


def test_notify_urls_in_the_file_are_checked_and_shown_masked(tmp_path: Path) -> None:
    file = tmp_path / "coopspider.toml"
    file.write_text(
        "[alerts]\n"
        f'notify = ["tgram://123456789:{SECRET}/-100123", "json://u:{SECRET}@hooks.example/x"]\n'
        "[report]\n"
        f'url = "{REPORT_URL}"\n',
        encoding="utf-8",
    )
    file.chmod(0o600)
    config = load_config(file, env={})
    shown = "\n".join(
        describe(config, ("sqlite:///a.sqlite3", "default"), (str(tmp_path / "lock"), "default"))
    )
    assert SECRET not in shown and "123456789" not in shown
    assert f"alerts.notify: tgram://1...n/-100123/, json://u:****@hooks.example/x  ({file}:2)" in (
        shown
    )
    assert f"report.url: {REPORT_URL}  ({file}:4)" in shown
    assert SECRET not in repr(config)
    telegram = config.alerts.notify[0]
    assert telegram.mask(f"bot123456789:{SECRET} failed") == "bot***:*** failed"

    file.write_text(
        f'[alerts]\nnotify = ["json://a/x", "json://a/x", "nope{SECRET}"]\n[report]\nurl = "ftp://x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_config(file, env={})
    assert error.value.problems == [
        f"{file}:2: alerts.notify: items 1 and 2 name the same channel (json://a/x)",
        f"{file}:4: report.url: expected an http(s) URL such as https://example.org/coopspider/,"
        " got 'ftp://x'",
    ]


def test_the_short_message_says_the_subject_the_counts_and_the_link() -> None:
    from coopspider.monitor.alert_digest import EventInput, build_digest

    events = [
        EventInput(site, "new", {"title": f"t{n}", "url": f"https://x/{n}"})
        for n, site in enumerate(["a", "b", "b"])
    ] + [EventInput("b", "removed", {"title": "r", "url": "https://x/r", "reason": "unlisted"})]
    title, body = short_message(build_digest(events), "https://r.example/bao-cao/index.html")
    assert title == "[coopspider] 3 tin mới, 1 tin bị gỡ – a, b"
    assert body.splitlines() == [
        "a: 1 tin mới",
        "b: 2 tin mới, 1 tin bị gỡ",
        "Xem chi tiết: https://r.example/bao-cao/index.html",
        "Theo dõi qua Atom: https://r.example/bao-cao/feed.atom",
    ]


# -- the migration ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_migration_0008_keeps_what_e_mail_sent_as_the_e_mail_channels(db_url: str) -> None:
    upgrade_database(db_url, "0007")
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            run = connection.execute(
                sa.text(
                    "INSERT INTO crawl_runs (site, spider, base_url, started_at, status)"
                    " VALUES ('thaibinh', 'lienminh', 'http://x/', :t, 'finished') RETURNING id"
                ),
                {"t": T0},
            ).scalar_one()
            events = [
                connection.execute(
                    sa.text(
                        "INSERT INTO change_events (site, kind, crawl_run_id, details, detected_at)"
                        " VALUES ('thaibinh', 'new', :run, '{}', :t) RETURNING id"
                    ),
                    {"run": run, "t": T0},
                ).scalar_one()
                for _ in range(2)
            ]
            batch = connection.execute(
                sa.text(
                    "INSERT INTO alert_batches (status, message_id, created_at, attempts)"
                    " VALUES ('sent', '<m@x>', :t, 1) RETURNING id"
                ),
                {"t": T0},
            ).scalar_one()
            connection.execute(
                sa.text("INSERT INTO alert_batch_events (event_id, batch_id) VALUES (:e, :b)"),
                {"e": events[0], "b": batch},
            )
        upgrade_database(db_url)
        with engine.connect() as connection:
            assert connection.execute(
                sa.text("SELECT key, first_event_id FROM alert_channels")
            ).all() == [("email", 0)]
            assert connection.execute(
                sa.text("SELECT c.channel_id, c.event_id, b.channel_id FROM alert_channel_events c"
                        " JOIN alert_batches b ON b.id = c.batch_id")
            ).all() == [(1, events[0], 1)]  # fmt: skip
        downgrade_database(db_url, "0007")
        with engine.connect() as connection:
            assert connection.execute(
                sa.text("SELECT event_id, batch_id FROM alert_batch_events")
            ).all() == [(events[0], batch)]
    finally:
        engine.dispose()


def test_the_run_alerts_the_channels_when_no_e_mail_recipient_is_set(
    db_url: str, hooks: Hooks
) -> None:
    path = unique("run")
    database = open_database(db_url)
    try:
        crawl_with_news(database, ["1"], T0)
    finally:
        database.close()
    config = load_config(None, {"COOPSPIDER_NOTIFY": hooks.url(path)})
    context = RunContext(config=config, database_url=db_url, sites=[SiteConfig(name=SITE)])
    outcome = AlertStep().run(context)
    assert outcome.ok
    assert outcome.lines == [
        f"alert: sent to json://127.0.0.1:{hooks.port}/{path}: [coopspider] 1 tin mới – {SITE}"
    ]
    assert len(hooks.got(path)) == 1
    assert AlertStep().run(context).lines == ["alert: nothing new to send"]


def test_no_token_reaches_the_logs_while_a_channel_sends(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    # Apprise API URLs carry their token in the path: the HTTP client logs the request line.
    url = f"apprise://127.0.0.1:{hooks.port}/{SECRET}?version=1&method=json"
    target = load_config(None, {"COOPSPIDER_NOTIFY": url}).alerts.notify[0]
    with caplog.at_level(logging.DEBUG):
        notify(target, "[coopspider] 1 tin mới – thaibinh", "thaibinh: 1 tin mới")
    assert [m["title"] for m in hooks.got(f"notify/{SECRET}")] == [
        "[coopspider] 1 tin mới – thaibinh"
    ]
    request_lines = [r.getMessage() for r in caplog.records if "POST /notify/" in r.getMessage()]
    assert request_lines and all("/notify/***" in line for line in request_lines)
    assert SECRET not in caplog.text
