"""The archive writer process: batches of queued items, one bad item costing only itself."""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from coopspider.pipelines import writer
from coopspider.pipelines.writer import ArchiveWriter, Outcome, _queued_after, _write, savers
from storage import Article, Database, list_events
from tests.helpers import make_article


def numbered(number: int, **changes: Any) -> dict[str, Any]:
    return make_article(
        article_id=str(number), url=f"http://x/tin-tuc/bai-{number}.html", **changes
    )


def stored_ids(database: Database) -> list[str]:  # noqa: F811
    with database.session() as session:
        return sorted(session.scalars(select(Article.article_id)), key=int)


def test_items_already_queued_are_taken_together_up_to_a_batch() -> None:
    tasks: queue.Queue[Any] = queue.Queue()
    for number in range(1, 41):
        tasks.put(("article", numbered(number)))
    tasks.put(None)
    first, finished = _queued_after(tasks.get(), tasks)
    assert (len(first), finished) == (32, False)
    rest, finished = _queued_after(tasks.get(), tasks)
    assert (len(rest), finished) == (8, True)
    assert tasks.empty()


def test_a_batch_waits_a_moment_for_more_items_but_not_past_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer, "_GATHER_S", 30.0)
    tasks: queue.Queue[Any] = queue.Queue()
    late = threading.Timer(0.2, lambda: (tasks.put(("article", numbered(2))), tasks.put(None)))
    late.start()
    started = time.monotonic()
    batch, finished = _queued_after(("article", numbered(1)), tasks)
    assert ([record["article_id"] for _, record in batch], finished) == (["1", "2"], True)
    assert time.monotonic() - started < 10
    monkeypatch.setattr(writer, "_GATHER_S", 0.0)
    alone, finished = _queued_after(("article", numbered(3)), tasks)
    assert (len(alone), finished) == (1, False)


@pytest.mark.slow
def test_a_bad_item_in_a_batch_costs_only_itself(
    database: Database,  # noqa: F811
    run_id: int,  # noqa: F811
) -> None:
    batch = [numbered(1), numbered(2, published_at="not a date"), numbered(3)]
    outcomes = _write(database, savers(baseline=False)["article"], "article", batch, run_id)
    assert [(outcome.url, outcome.result) for outcome in outcomes] == [
        ("http://x/tin-tuc/bai-1.html", "new"),
        ("http://x/tin-tuc/bai-2.html", None),
        ("http://x/tin-tuc/bai-3.html", "new"),
    ]
    assert outcomes[1].error is not None and "not a date" in outcomes[1].error
    assert stored_ids(database) == ["1", "3"]
    with database.session() as session:
        assert Counter(event.kind for event in list_events(session, site="thaibinh")) == {"new": 2}


@pytest.mark.slow
def test_writer_process_stores_every_item_and_reports_each(
    db_url: str,  # noqa: F811
    database: Database,  # noqa: F811
    run_id: int,  # noqa: F811
) -> None:
    writer = ArchiveWriter(db_url, run_id)
    for number in range(1, 101):
        assert writer.submit("article", numbered(number))
    writer.submit("article", numbered(7, title="Bài 7, sửa"))
    writer.submit("article", numbered(200, body=None))
    outcomes: list[Outcome] = writer.close()
    assert not writer.failed
    assert Counter(outcome.result for outcome in outcomes) == {"new": 100, "changed": 1, None: 1}
    assert [outcome.url for outcome in outcomes if outcome.error] == [
        "http://x/tin-tuc/bai-200.html"
    ]
    assert stored_ids(database) == [str(number) for number in range(1, 101)]
