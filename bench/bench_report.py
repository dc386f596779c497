"""Report and search times on a 100,000-article archive, against baselines run alongside.

Run: .venv/bin/python bench/bench_report.py [--articles N] [--rounds N] [--postgres URL]

The archive (a temporary SQLite file; with --postgres, a temporary schema in that database) is
filled by direct inserts: ten years of daily crawls of two sites, Vietnamese text from the
sample site's vocabulary plus one cooperative's name per article (so some queries are
selective, as a name is), 2% of the articles edited, a month of change events and counter
readings. Migration 0005 then indexes it, as it would an existing archive. Printed:

- search: `storage.fulltext.search` (ranked, accent-blind, 20 hits) against a LIKE scan of the
  same latest versions for the same words (accent-sensitive, unranked: the naive way);
- report: `coopspider report --days 30` (build the model, render and write every page and the
  Atom feed) against a plain SELECT of the same rows (the window's events, the versions of the
  articles they name, the counter readings and the runs);
- feed: `coopspider feed --days 30` (load the window's events, build, render and write the
  Atom feed) against the plain SELECT of those events.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from sqlalchemy import Connection, Row, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from coopspider.monitor.feed import Feed, feed_of_source, load_feed_source, write_feed  # noqa: E402
from coopspider.monitor.report_data import Report, build_report, load_report_source  # noqa: E402
from coopspider.monitor.report_html import report_feed, write_report  # noqa: E402
from coopspider.sample_site import texts  # noqa: E402
from storage import (  # noqa: E402
    Article,
    ArticleVersion,
    ChangeEvent,
    CounterObservation,
    CrawlRun,
    create_db_engine,
    fold_for_search,
    open_database,
    search,
    upgrade_database,
)
from storage.fulltext import MAX_QUERY_WORDS  # noqa: E402

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
DAYS = 30
YEARS = 10
SITES = ("thaibinh", "hungyen")
COMMON_QUERIES = [
    "hop tac xa",
    "Hợp tác xã nông nghiệp",
    "chuoi gia tri",
    "san pham ocop",
    "Thái Bình",
    "thuy san",
]


def vocabulary() -> list[str]:
    words = set()
    for value in vars(texts).values():
        for piece in value if isinstance(value, list | tuple) else [value]:
            if isinstance(piece, str):
                words.update(re.findall(r"[^\W\d_]+", piece))
    return sorted(words)


def name_syllables() -> list[str]:
    """About a thousand syllables for names (onset, rhyme, tone), each far rarer than common
    words, as a cooperative's or a village's name is."""
    onsets = ["B", "C", "D", "Đ", "G", "H", "K", "L", "M", "N", "Ph", "Qu", "S", "T", "Th", "Tr"]
    # Rhymes whose first letter takes the tone mark, so the mark can follow it.
    rhymes = ["ang", "inh", "ông", "ai", "ơn", "ưu", "ên", "anh", "ơi", "am", "ôi"]
    tones = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
    return [
        unicodedata.normalize("NFC", onset + rhyme[0] + tone + rhyme[1:])
        for onset in onsets
        for rhyme in rhymes
        for tone in tones
    ]


def generate(connection: Connection, articles: int) -> list[str]:
    """Fill a migrated (revision 0002) archive; return the cooperative names it mentions."""
    rng = random.Random(9)
    words = vocabulary()
    syllables = name_syllables()
    names = sorted({f"{rng.choice(syllables)} {rng.choice(syllables)}" for _ in range(50_000)})
    start = NOW - timedelta(days=YEARS * 365)
    runs = [(start + timedelta(days=day), site) for day in range(YEARS * 365 + 1) for site in SITES]
    connection.execute(
        insert(CrawlRun),
        [
            {"id": number, "site": site, "spider": "lienminh", "base_url": "http://x/",
             "started_at": moment, "finished_at": moment + timedelta(minutes=20),
             "status": "finished", "finish_reason": "finished",
             "stats": {"downloader/response_count": rng.randint(300, 900)}}
            for number, (moment, site) in enumerate(runs, start=1)
        ],
    )  # fmt: skip
    edited = set(rng.sample(range(1, articles + 1), articles // 50))
    first_recent_run = len(runs) - len(SITES) * DAYS
    # Rows of mixed column types, as insert() takes them.
    article_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for number in range(1, articles + 1):
        run_id = 1 + (number * (len(runs) - 1)) // articles
        moment, site = runs[run_id - 1]
        url = f"http://{site}.example/tin-tuc/bai-{number}.html"
        article_rows.append(
            {"id": number, "site": site, "article_id": str(number), "url": url,
             "category": "tin-tuc", "first_seen_at": moment, "last_seen_at": moment,
             "last_run_id": run_id}
        )  # fmt: skip
        name = f"Hợp tác xã {names[number % len(names)]}"
        for version in (1, 2) if number in edited else (1,):
            title = " ".join(rng.choices(words, k=rng.randint(8, 16))).capitalize()
            paragraphs = [" ".join(rng.choices(words, k=rng.randint(30, 60))) for _ in range(4)]
            paragraphs[1] = f"{name} {paragraphs[1]}"
            version_rows.append(
                {"article_pk": number, "version": version, "content_hash": f"{number:064x}",
                 "title": title, "published_at": moment, "body": "\n\n".join(paragraphs),
                 "images": [], "fetched_at": moment, "crawl_run_id": run_id,
                 "first_seen_at": moment, "last_seen_at": moment}
            )  # fmt: skip
        if run_id > first_recent_run:
            details: dict[str, Any] = {"url": url, "title": title}
            if number in edited:
                details |= {"fields": ["title"], "diff": {"title": ["Tiêu đề cũ", title]}}
            events.append(
                {"site": site, "kind": "changed" if number in edited else "new",
                 "article_pk": number, "crawl_run_id": run_id, "detected_at": moment,
                 "details": details}
            )  # fmt: skip
    for number in rng.sample(range(1, articles // 2), 50):
        row = article_rows[number - 1]
        events.append(
            {"site": row["site"], "kind": "removed", "article_pk": number,
             "crawl_run_id": len(runs), "detected_at": NOW - timedelta(days=3),
             "details": {"url": row["url"], "title": f"Bài {number}", "reason": "unlisted"}}
        )  # fmt: skip
    connection.execute(insert(Article), article_rows)
    connection.execute(insert(ArticleVersion), version_rows)
    connection.execute(
        insert(CounterObservation),
        [
            {"site": site, "url": "http://x/", "observed_at": moment,
             "total": 100_000 + 900 * number, "online": rng.randint(1, 40), "crawl_run_id": number}
            for number, (moment, site) in enumerate(runs, start=1)
        ],
    )  # fmt: skip
    connection.execute(insert(ChangeEvent), events)
    return names


def longest_queries(names: list[str]) -> list[tuple[str, str]]:
    """(what, query) of MAX_QUERY_WORDS words each: the costly kinds of long query."""
    rng = random.Random(5)
    common = "hợp tác xã"
    return [
        ("a common phrase repeated (searched once)", " ".join([common] * (MAX_QUERY_WORDS // 3))),
        ("distinct words of the text", " ".join(rng.sample(vocabulary(), MAX_QUERY_WORDS))),
        ("cooperatives' names", " ".join(names[: MAX_QUERY_WORDS // 2])),
    ]


def timed(action: Callable[[], object], rounds: int) -> float:
    """Median seconds of `rounds` runs."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def like_scan(connection: Connection, query: str) -> Sequence[Row[Any]]:
    """The naive search: every word as a LIKE over the latest versions' title and body."""
    words = query.split()
    condition = " AND ".join(
        f"(v.title LIKE :w{i} OR v.body LIKE :w{i})" for i in range(len(words))
    )
    return connection.execute(
        text(
            "SELECT a.url, v.title, v.published_at FROM article_versions AS v "
            "JOIN articles AS a ON a.id = v.article_pk WHERE v.version = "
            "(SELECT MAX(version) FROM article_versions WHERE article_pk = a.id) "
            f"AND {condition}"
        ),
        {f"w{i}": f"%{word}%" for i, word in enumerate(words)},
    ).all()


def event_select(connection: Connection, since: datetime) -> Sequence[Row[Any]]:
    """The window's change events, as a plain SELECT."""
    return connection.execute(
        text("SELECT * FROM change_events WHERE detected_at >= :since"), {"since": since}
    ).all()


def plain_select(connection: Connection, since: datetime) -> int:
    """The rows the report shows, fetched with plain SQL and nothing done with them."""
    window = {"since": since}
    events = event_select(connection, since)
    pks = sorted({row.article_pk for row in events if row.article_pk is not None})
    versions = 0
    for start in range(0, len(pks), 500):
        chunk = {f"p{i}": pk for i, pk in enumerate(pks[start : start + 500])}
        versions += len(
            connection.execute(
                text(
                    "SELECT * FROM articles AS a JOIN article_versions AS v "
                    f"ON v.article_pk = a.id WHERE a.id IN ({', '.join(':' + k for k in chunk)})"
                ),
                chunk,
            ).all()
        )
    connection.execute(
        text("SELECT * FROM counter_observations WHERE observed_at >= :since"), window
    ).all()
    connection.execute(text("SELECT * FROM crawl_runs WHERE started_at >= :since"), window).all()
    return len(events) + versions


@contextmanager
def empty_database(postgres: str | None) -> Iterator[tuple[str, Path]]:
    """(URL, scratch folder) of an empty database: a SQLite file, or a PostgreSQL schema."""
    with tempfile.TemporaryDirectory() as folder:
        if postgres is None:
            yield f"sqlite:///{Path(folder) / 'archive.sqlite3'}", Path(folder)
            return
        admin = create_engine(postgres)
        schema = f"bench_report_{uuid.uuid4().hex[:8]}"
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(postgres).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False), Path(folder)
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each timing (median)")
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL instead of SQLite")
    args = parser.parse_args()

    with empty_database(args.postgres) as (url, folder):
        upgrade_database(url, "0002")
        engine = create_db_engine(url)
        began = time.perf_counter()
        with engine.begin() as connection:
            names = generate(connection, args.articles)
        generated = time.perf_counter() - began
        began = time.perf_counter()
        upgrade_database(url)  # migration 0005 indexes every article already archived
        indexed = time.perf_counter() - began
        print(
            f"{engine.dialect.name}: {args.articles:,} articles generated in {generated:.1f} s, "
            f"indexed by migration 0005 in {indexed:.1f} s"
        )
        rare = [f"Hợp tác xã {names[0]}", fold_for_search(names[1]), names[2]]
        queries = COMMON_QUERIES + rare
        database = open_database(url)

        print(f"\n{'search query':30} {'hits':>5} {'index ms':>9} {'LIKE hits':>10} {'LIKE ms':>8}")
        index_total = like_total = 0.0
        with database.session() as session:
            # One connection for both: every SQLite transaction here takes the write lock.
            connection = session.connection()
            for query in queries:
                hits = search(session, query, limit=20)
                found = timed(partial(search, session, query, limit=20), args.rounds)
                like_hits = len(like_scan(connection, query))
                like = timed(partial(like_scan, connection, query), args.rounds)
                index_total, like_total = index_total + found, like_total + like
                print(
                    f"{query:30} {len(hits):>5} {found * 1000:>9.1f} {like_hits:>10} "
                    f"{like * 1000:>8.1f}"
                )
        print(
            f"search mean: index {index_total / len(queries) * 1000:.1f} ms, LIKE scan "
            f"{like_total / len(queries) * 1000:.1f} ms per query; "
            f"ratio LIKE/index = {like_total / index_total:.1f}x"
        )
        with database.session() as session:
            print(f"\nqueries of {MAX_QUERY_WORDS} words, the most search takes:")
            for name, query in longest_queries(names):
                hit_count = len(search(session, query, limit=20))
                found = timed(partial(search, session, query, limit=20), args.rounds)
                print(f"  {name:45} {hit_count:>3} hits {found * 1000:>8.1f} ms")

        def report() -> Report:
            with database.session() as session:
                source = load_report_source(session, now=NOW, days=DAYS)
                model = build_report(source)
            write_report(model, folder / "report", report_feed(source))
            return model

        def feed() -> Feed:
            with database.session() as session:
                source = load_feed_source(session, now=NOW, days=DAYS)
            built = feed_of_source(source)
            write_feed(built, folder / "feed.atom")
            return built

        model = report()
        with database.session() as session:
            connection = session.connection()
            rows = plain_select(connection, model.since)
            select_s = timed(lambda: plain_select(connection, model.since), args.rounds)
            events = len(event_select(connection, model.since))
            events_s = timed(lambda: event_select(connection, model.since), args.rounds)
        report_s = timed(report, args.rounds)
        entries = len(feed().entries)
        feed_s = timed(feed, args.rounds)
        print(
            f"\nreport --days {DAYS}: {len(model.new)} new, {len(model.changed)} edited, "
            f"{len(model.removed)} removed, {len(model.runs)} runs, "
            f"{len(model.articles) + 1} pages written"
        )
        print(
            f"report {report_s:.2f} s; plain SELECT of the same {rows:,} rows {select_s:.3f} s; "
            f"ratio report/SELECT = {report_s / select_s:.0f}x"
        )
        size = (folder / "feed.atom").stat().st_size
        print(
            f"feed --days {DAYS}: {entries:,} entries, {size / 1024:,.0f} KiB; feed "
            f"{feed_s:.2f} s; plain SELECT of the {events:,} events {events_s:.3f} s; "
            f"ratio feed/SELECT = {feed_s / events_s:.0f}x"
        )
        database.close()
        engine.dispose()


if __name__ == "__main__":
    main()
