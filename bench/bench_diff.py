"""Time `coopspider diff` (load the facts, build the report, render it) against archive size.

Builds SQLite archives (migrated like a user's) holding 10,000 and 100,000 articles, 1,000 crawl
runs with a counter reading and 50 change events each, and times the diff of the latest run,
whose 50 changes are the same on both. The diff should cost what the latest run changed, not what
the archive holds: the ratio of the two timings should stay near 1 while the archive grows 10x.
A third archive of 100,000 articles whose latest run holds 500 changes shows the cost follows the
changes.

Then it times the word diff of one article edited once (a sentence added in the middle), as
`diff`, `history`, the report and the alert show it, for bodies of 2,000, 20,000 and 100,000
words: the time per word must not grow with the length (the diff is near-linear).

    .venv/bin/python bench/bench_diff.py [--repeat 20] [--only archive|words]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coopspider.monitor.diff import build_diff, load_facts  # noqa: E402
from coopspider.monitor.text_render import render_diff, render_word_diff  # noqa: E402
from coopspider.sample_site.texts import PARAGRAPHS  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import (  # noqa: E402
    Article,
    ArticleVersion,
    ChangeEvent,
    CounterObservation,
    CrawlRun,
)

SITE = "thaibinh"
RUNS = 1000
START = datetime(2023, 1, 1, tzinfo=UTC)
BODY = (
    "Sáng ngày 13/7/2023, Liên minh Hợp tác xã tỉnh tổ chức hội nghị sơ kết 6 tháng đầu năm. " * 4
)


def build_archive(url: str, articles: int, changes: int) -> None:
    """An archive of `articles` articles and RUNS runs; the last run holds `changes` events."""
    with open_database(url) as database, database.connect() as connection, connection.begin():
        connection.execute(
            insert(CrawlRun),
            [
                {
                    "id": run,
                    "site": SITE,
                    "spider": "lienminh",
                    "base_url": "https://lienminhhtx.example/",
                    "started_at": START + timedelta(days=run),
                    "finished_at": START + timedelta(days=run, minutes=30),
                    "status": "finished",
                    "finish_reason": "finished",
                    "stats": {"downloader/response_count": 40},
                }
                for run in range(1, RUNS + 1)
            ],
        )
        connection.execute(
            insert(CounterObservation),
            [
                {
                    "site": SITE,
                    "url": "https://lienminhhtx.example/",
                    "observed_at": START + timedelta(days=run),
                    "total": 200_000 + 500 * run,
                    "online": 40,
                    "crawl_run_id": run,
                }
                for run in range(1, RUNS + 1)
            ],
        )
        for start in range(0, articles, 5000):
            chunk = range(start + 1, min(articles, start + 5000) + 1)
            run_of = {number: 1 + number * (RUNS - 1) // articles for number in chunk}
            connection.execute(
                insert(Article),
                [
                    {
                        "id": number,
                        "site": SITE,
                        "article_id": str(number),
                        "url": f"https://lienminhhtx.example/tin-tuc/bai-{number}.html",
                        "category": "tin-tuc",
                        "first_seen_at": START + timedelta(days=run_of[number]),
                        "last_seen_at": START + timedelta(days=run_of[number]),
                        "last_run_id": run_of[number],
                    }
                    for number in chunk
                ],
            )
            connection.execute(
                insert(ArticleVersion),
                [
                    {
                        "article_pk": number,
                        "version": 1,
                        "content_hash": f"{number:064x}",
                        "title": f"Hội nghị số {number}",
                        "published_at": START + timedelta(days=run_of[number]),
                        "published_raw": "Ngày: 13/07/2023",
                        "author": "Thùy Dung",
                        "summary": BODY[:90],
                        "body": BODY,
                        "images": [],
                        "fetched_at": START + timedelta(days=run_of[number]),
                        "crawl_run_id": run_of[number],
                        "first_seen_at": START + timedelta(days=run_of[number]),
                        "last_seen_at": START + timedelta(days=run_of[number]),
                    }
                    for number in chunk
                ],
            )
        # Every earlier run found 50 changes too: the diff must not read them.
        history = [
            _event(run, 1 + (run * 50 + n) % articles, n)
            for run in range(1, RUNS)
            for n in range(50)
        ]
        for start in range(0, len(history), 5000):
            connection.execute(insert(ChangeEvent), history[start : start + 5000])
        connection.execute(
            insert(ChangeEvent), [_event(RUNS, articles - n, n) for n in range(changes)]
        )


def _event(run: int, number: int, n: int) -> dict:
    kind = ("new", "changed", "changed", "removed")[n % 4]
    url = f"https://lienminhhtx.example/tin-tuc/bai-{number}.html"
    details: dict = {"url": url, "title": f"Hội nghị số {number}"}
    if kind == "new":
        details["published_at"] = "2025-07-13T00:00:00+07:00"
    elif kind == "changed":
        details |= {
            "from_version": 1,
            "to_version": 2,
            "fields": ["title", "body"],
            "diff": {
                "title": [f"Hội nghị số {number}", f"Hội nghị số {number} (sửa)"],
                "body": [BODY, BODY.replace("sơ kết", "tổng kết", 1)],
            },
        }
    else:
        details |= {"reason": "gone", "status": 404}
    return {
        "site": SITE,
        "kind": kind,
        "article_pk": number,
        "crawl_run_id": run,
        "detected_at": START + timedelta(days=run, minutes=30),
        "details": details,
    }


def time_diff(url: str, repeat: int) -> tuple[float, int]:
    """(best seconds of one diff over `repeat` tries, number of changes it reported)."""
    database = open_database(url)
    best = float("inf")
    reported = 0
    for _ in range(repeat):
        began = time.perf_counter()
        with database.session() as session:
            report = build_diff(load_facts(session))
        render_diff(report)
        best = min(best, time.perf_counter() - began)
        reported = sum(len(report[key]) for key in ("new", "changed", "removed"))
    database.close()
    return best, reported


EDIT = " (số liệu được điều chỉnh lại theo báo cáo mới)"


def long_body(words: int) -> str:
    """An article body of about `words` words in numbered paragraphs of the sample site's text."""
    paragraphs: list[str] = []
    count = 0
    while count < words:
        paragraph = f"({len(paragraphs) + 1}) {PARAGRAPHS[len(paragraphs) % len(PARAGRAPHS)]}"
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(paragraphs)


def one_edit(body: str) -> str:
    """`body` with a few words added in the middle of a paragraph."""
    middle = body.index(" ", len(body) // 2)
    return body[:middle] + EDIT + body[middle:]


def time_word_diffs(repeat: int) -> None:
    per_word = []
    for words in (2_000, 20_000, 100_000):
        old = long_body(words)
        new = one_edit(old)
        best = float("inf")
        for _ in range(repeat):
            began = time.perf_counter()
            shown = render_word_diff(old, new)
            best = min(best, time.perf_counter() - began)
        assert "{+" + EDIT + "+}" in shown, shown
        counted = len(old.split())
        per_word.append(best / counted)
        print(
            f"{counted:>7,} words, one edit: word diff {best * 1000:8.2f} ms, "
            f"{best / counted * 1e6:.3f} µs per word",
            flush=True,
        )
    print(f"time per word, 100,000 vs 2,000 words:       x{per_word[2] / per_word[0]:.2f}")
    print(f"time per word, 20,000 vs 2,000 words:        x{per_word[1] / per_word[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed diffs per case")
    parser.add_argument("--only", choices=["archive", "words"], help="run one part only")
    args = parser.parse_args()
    if args.only != "archive":
        time_word_diffs(args.repeat)
    if args.only == "words":
        return
    cases = [(10_000, 50), (100_000, 50), (100_000, 500)]
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for articles, changes in cases:
            url = f"sqlite:///{Path(directory) / f'archive-{articles}-{changes}.sqlite3'}"
            began = time.perf_counter()
            build_archive(url, articles, changes)
            built = time.perf_counter() - began
            seconds, reported = time_diff(url, args.repeat)
            assert reported == changes, (reported, changes)
            results.append(seconds)
            print(
                f"{articles:>7,} articles, {RUNS:,} runs, {changes:>3} changes in the latest run: "
                f"diff {seconds * 1000:7.1f} ms (archive built in {built:.0f} s)",
                flush=True,
            )
    small, large, many = results
    print(f"100,000 vs 10,000 articles, same 50 changes: x{large / small:.2f} time")
    print(f"500 vs 50 changes, 100,000 articles:          x{many / large:.2f} time")


if __name__ == "__main__":
    main()
