"""Change tracking in storage: the events a crawl records, on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import (
    Article,
    Database,
    GoneSeen,
    ListingSeen,
    archive_articles,
    confirm_unchanged,
    finish_tracking,
    is_baseline_run,
    known_articles,
    list_events,
    save_counter,
    start_run,
)
from storage.models import CrawlRun
from tests.helpers import T0, make_article

SITE = "thaibinh"


def new_run(session: Session, finished: bool = True) -> int:
    run_id = start_run(session, site=SITE, spider="lienminh", base_url="http://x/", started_at=T0)
    if finished:
        session.get(CrawlRun, run_id).status = "finished"
    return run_id


def article(number: int, day: int, **changes: Any) -> dict[str, Any]:
    """Article `number` of category tin-tuc, published on day `day` of May 2022."""
    fields = {
        "article_id": str(number),
        "url": f"http://x/tin-tuc/bai-{number}.html",
        "category": "tin-tuc",
        "title": f"Bài số {number}",
        "published_at": f"2022-05-{day:02d}T00:00:00+07:00",
    }
    return make_article(**{**fields, **changes})


def article_id_of(session: Session, article_pk: int | None) -> str | None:
    """The article id of the article an event names (list_events reads rows, not models)."""
    article = session.get(Article, article_pk) if article_pk is not None else None
    return article.article_id if article else None


def events(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, "article_id": article_id_of(session, e.article_pk), **e.details}
        for e in list_events(session, site=SITE, kinds=[kind] if kind else None)
    ]


def list_all(session: Session, run: int, count: int) -> None:
    """Finish `run` having seen articles 1..count on one complete listing."""
    everything = ListingSeen("tin-tuc", 1, frozenset(map(str, range(1, count + 1))), True)
    finish_tracking(session, site=SITE, run_id=run, listings=[everything], gone=[], baseline=True)


@pytest.mark.slow
def test_baseline_run_records_one_count_and_no_new_article(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        run = new_run(session, finished=False)
        assert is_baseline_run(session, SITE, run)
        for number in range(1, 4):
            assert (
                archive_articles(session, [article(number, number)], run, baseline=True)[0] == "new"
            )
        finish_tracking(session, site=SITE, run_id=run, listings=[], gone=[], baseline=True)
        assert events(session) == [{"kind": "baseline", "article_id": None, "articles": 3}]
        assert all(a.last_listed_at is None for a in session.query(Article))
        session.get(CrawlRun, run).status = "finished"
        later = new_run(session, finished=False)
        assert not is_baseline_run(session, SITE, later)


@pytest.mark.slow
def test_new_and_changed_articles_are_recorded_with_their_word_level_fields(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        first = new_run(session)
        archive_articles(session, [article(1, 1)], first, baseline=True)
        second = new_run(session)
        archive_articles(session, [article(2, 2)], second)
        edited = article(1, 1, title="Bài số 1 (sửa)", body="Đoạn mới.\n\nHội nghị đã thành công.")
        assert archive_articles(session, [edited], second)[0] == "changed"
        new, changed = events(session)
    assert new == {
        "kind": "new",
        "article_id": "2",
        "url": "http://x/tin-tuc/bai-2.html",
        "title": "Bài số 2",
        "published_at": "2022-05-02T00:00:00+07:00",
    }
    assert changed["kind"] == "changed" and changed["article_id"] == "1"
    assert (changed["from_version"], changed["to_version"]) == (1, 2)
    assert changed["fields"] == ["title", "body"]
    assert changed["diff"]["title"] == ["Bài số 1", "Bài số 1 (sửa)"]
    assert changed["diff"]["body"][1] == "Đoạn mới.\n\nHội nghị đã thành công."


@pytest.mark.slow
def test_a_batch_is_archived_exactly_as_the_same_articles_one_by_one(
    database: Database,  # noqa: F811
) -> None:
    """Same verdicts, versions and events, an article repeated in the batch included."""

    def crawl(site: str) -> list[str]:
        def at(number: int, day: int, **changes: Any) -> dict[str, Any]:
            return article(number, day, site=site, **changes)

        with database.begin() as session:
            archive_articles(session, [at(5, 5)], new_run(session), baseline=True)
        second = [
            at(1, 1),
            at(2, 2),
            at(1, 1, title="Bài số 1, sửa"),
            at(3, 3),
            at(2, 2),
            at(5, 5, body="Nội dung mới."),
        ]
        with database.begin() as session:
            run = new_run(session)
            if site == "batch":
                return archive_articles(session, second, run)
            return [archive_articles(session, [one], run)[0] for one in second]

    assert (
        crawl("batch")
        == crawl("single")
        == [
            "new",
            "new",
            "changed",
            "new",
            "unchanged",
            "changed",
        ]
    )
    with database.session() as session:
        by_site = {
            site: [
                (event.kind, article_id_of(session, event.article_pk), event.details)
                for event in list_events(session, site=site)
            ]
            for site in ("batch", "single")
        }
        versions = {
            site: sorted(
                (record.article_id, version.version, version.title, version.body)
                for record in session.scalars(select(Article).where(Article.site == site))
                for version in record.versions
            )
            for site in ("batch", "single")
        }
    assert by_site["batch"] == by_site["single"]
    assert sorted((kind, number) for kind, number, _ in by_site["batch"]) == [
        ("changed", "1"),
        ("changed", "5"),
        ("new", "1"),
        ("new", "2"),
        ("new", "3"),
    ]
    assert versions["batch"] == versions["single"]
    assert len(versions["batch"]) == 6


def test_unicode_form_and_whitespace_are_not_edits(
    database: Database,  # noqa: F811
) -> None:
    original = article(1, 1)
    respaced = dict(original)
    respaced["title"] = unicodedata.normalize("NFD", original["title"]) + "  "
    respaced["body"] = original["body"].replace(" ", "\u00a0 ").replace("\n\n", "\n \n\n")
    with database.begin() as session:
        archive_articles(session, [original], new_run(session), baseline=True)
        assert archive_articles(session, [respaced], new_run(session))[0] == "unchanged"
        assert events(session) == []


@pytest.mark.slow
def test_gone_and_unlisted_articles_are_removed_and_a_listing_restores_them(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        first = new_run(session)
        for number in range(1, 9):  # bài 8 is the newest
            archive_articles(session, [article(number, number)], first, baseline=True)
        list_all(session, first, 8)
        # Bài 9 was never shown by a listing (a page linked from elsewhere): it cannot leave one.
        archive_articles(session, [article(9, 9)], first, baseline=True)
        run = new_run(session)
        page_1 = ListingSeen("tin-tuc", 1, frozenset({"8", "7", "5"}), last_page=False)
        recorded = finish_tracking(
            session,
            site=SITE,
            run_id=run,
            listings=[page_1],
            gone=[GoneSeen("7", 410)],
            baseline=False,
        )
        # 7 answered 410; 6 is newer than the oldest listed (5) yet not listed; 4 and older may
        # sit on page 2, which this run did not read.
        assert recorded == {"removed": 2}
        removed = {e["article_id"]: e for e in events(session, "removed")}
        assert removed["7"]["reason"] == "gone" and removed["7"]["status"] == 410
        assert removed["6"]["reason"] == "unlisted" and removed["6"]["title"] == "Bài số 6"
        assert {a.article_id for a in session.query(Article) if a.removed_at} == {"6", "7"}

        # The article that left its listing keeps its page: fetching it restores nothing...
        again = new_run(session)
        archive_articles(session, [article(6, 6)], again)
        assert not events(session, "restored")
        # ...its listing showing it again does; the 410 one is restored by being served again.
        archive_articles(session, [article(7, 7)], again)
        both = frozenset({"8", "7", "6"})
        finish_tracking(
            session,
            site=SITE,
            run_id=again,
            listings=[ListingSeen("tin-tuc", 1, both, last_page=False)],
            gone=[],
            baseline=False,
        )
        assert sorted(e["article_id"] for e in events(session, "restored")) == ["6", "7"]
        assert not any(a.removed_at for a in session.query(Article))


@pytest.mark.slow
def test_last_page_of_a_listing_covers_every_older_article_and_an_empty_one_nothing(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        first = new_run(session)
        for number in range(1, 5):
            archive_articles(session, [article(number, number)], first, baseline=True)
        list_all(session, first, 4)
        empty = ListingSeen("tin-tuc", 1, frozenset(), last_page=True)
        run = new_run(session)
        finish_tracking(session, site=SITE, run_id=run, listings=[empty], gone=[], baseline=False)
        assert events(session, "removed") == []
        # Page 2 missing (a server error): page 3 alone covers nothing.
        pages = [
            ListingSeen("tin-tuc", 1, frozenset({"4", "3"}), last_page=False),
            ListingSeen("tin-tuc", 3, frozenset(), last_page=True),
        ]
        finish_tracking(session, site=SITE, run_id=run, listings=pages, gone=[], baseline=False)
        assert events(session, "removed") == []
        whole = [
            ListingSeen("tin-tuc", 1, frozenset({"4", "3"}), last_page=False),
            ListingSeen("tin-tuc", 2, frozenset({"2"}), last_page=True),
        ]
        finish_tracking(session, site=SITE, run_id=run, listings=whole, gone=[], baseline=False)
        assert [e["article_id"] for e in events(session, "removed")] == ["1"]


@pytest.mark.slow
def test_not_modified_answer_updates_last_seen(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        run = new_run(session)
        archive_articles(
            session, [article(1, 1, etag='"v1"', last_modified="x")], run, baseline=True
        )
        later = datetime(2025, 6, 1, tzinfo=UTC)
        assert confirm_unchanged(session, SITE, "1", new_run(session), later)
        assert not confirm_unchanged(session, SITE, "404", run, later)
        (known,) = known_articles(session, SITE)
    assert known.last_seen_at == later and known.etag == '"v1"' and known.last_modified == "x"
    assert known.published_at == datetime(2022, 5, 1, tzinfo=UTC) - timedelta(hours=7)
    assert known.removed_at is None and known.url == "http://x/tin-tuc/bai-1.html"


def _observe(session: Session, total: int, day: int) -> None:
    run = new_run(session)
    save_counter(
        session,
        {
            "site": SITE,
            "url": "http://x/",
            "observed_at": f"2025-03-{day:02d}T00:00:00+00:00",
            "total": total,
            "online": 5,
        },
        run,
    )
    finish_tracking(session, site=SITE, run_id=run, listings=[], gone=[], baseline=False)


@pytest.mark.slow
def test_counter_going_down_or_frozen_for_three_runs_is_an_anomaly(
    database: Database,  # noqa: F811
) -> None:
    with database.begin() as session:
        for day, total in enumerate([100, 150, 90, 90, 90, 90, 120, 110], start=1):
            _observe(session, total, day)
        anomalies = [
            {key: e[key] for key in ("anomaly", "total", "previous_total")}
            for e in events(session, "counter_anomaly")
        ]
        # A run that read no counter reports nothing, not the last anomaly again.
        assert (
            finish_tracking(
                session, site=SITE, run_id=new_run(session), listings=[], gone=[], baseline=False
            )
            == {}
        )
    # Down once; frozen reported once, when the third equal reading came in.
    assert anomalies == [
        {"anomaly": "decrease", "total": 90, "previous_total": 150},
        {"anomaly": "frozen", "total": 90, "previous_total": 90},
        {"anomaly": "decrease", "total": 110, "previous_total": 120},
    ]
