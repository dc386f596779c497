"""Full-text search, the index kept in step with the archive, and the browsing views, on SQLite
and PostgreSQL; the `coopspider search` command in a child process."""

from __future__ import annotations

import os
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from coopspider.sample_site import build_site, serve
from storage import (
    Article,
    Database,
    count_matches,
    downgrade_database,
    fold_for_search,
    open_database,
    save_counter,
    search,
    start_run,
    store_articles,
    upgrade_database,
)
from storage.fulltext import query_words
from tests.conftest import scrapy_crawl
from tests.helpers import T0, coopspider, make_article

DONG_QUY = make_article(
    url="http://lienminhhtx.example/tin-tuc-su-kien/dong-quy-2001.html",
    article_id="2001",
    title="Hợp tác xã Đông Quý mở rộng sản xuất",
    published_at="2024-06-02T08:00:00+07:00",
    body="Hợp tác xã Đông Quý (Tiền Hải) trồng thêm 20 ha rau màu vụ đông.",
)
MENTION = make_article(
    url="http://lienminhhtx.example/tin-tuc-su-kien/tong-ket-2002.html",
    article_id="2002",
    title="Tổng kết năm",
    published_at="2024-06-05T08:00:00+07:00",
    body="Nhiều đơn vị, trong đó có hợp tác xã Đông Quý, được khen thưởng.",
)
OTHER = make_article(
    url="http://lienminhhtx.example/tin-tuc-su-kien/che-2003.html",
    article_id="2003",
    title="Chè Tân Cương vào mùa",
    body="Hợp tác xã chè Tân Cương thu hoạch vụ xuân.",
)


def fill(database: Database, run_id: int, *articles: dict) -> None:
    with database.begin() as session:
        for article in articles:
            store_articles(session, [article], run_id)


def titles(session: Session, query: str, **options: object) -> list[str]:
    return [hit.title for hit in search(session, query, **options)]


def test_fold_drops_accents_case_and_the_stroke_of_d() -> None:
    assert fold_for_search("Hợp tác xã Đông Quý") == "hop tac xa dong quy"
    assert fold_for_search(unicodedata.normalize("NFD", "ĐỒNG Ý đường")) == "dong y duong"
    assert fold_for_search("") == fold_for_search(None) == ""


def _fold_of_whole_string(value: str) -> str:
    """The definition the search index was built with: NFD of the whole text, marks dropped."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@pytest.mark.slow
def test_fold_is_exactly_whole_string_nfd_for_every_character() -> None:
    # Rows of the contentless FTS5 index are deleted by giving back their indexed text, so the
    # per-character table must agree with the definition on every code point, in any order.
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    assert fold_for_search(every) == _fold_of_whole_string(every)
    assert fold_for_search(every[::-1]) == _fold_of_whole_string(every[::-1])


@given(st.text())
def test_fold_agrees_with_whole_string_nfd_on_any_text(value: str) -> None:
    assert fold_for_search(value) == _fold_of_whole_string(value)


@pytest.mark.parametrize(
    "query",
    ["hop tac xa dong quy", "Hợp tác xã Đông Quý", "HỢP TÁC XÃ ĐÔNG QUÝ", "hợp tac XA đong quy"],
)
@pytest.mark.slow
def test_search_ignores_accents_and_case_and_ranks_titles_first(
    database: Database, run_id: int, query: str
) -> None:
    fill(database, run_id, OTHER, MENTION, DONG_QUY)
    with database.session() as session:
        assert titles(session, query) == [DONG_QUY["title"], MENTION["title"]]


def test_search_needs_every_word_and_takes_query_syntax_as_text(
    database: Database, run_id: int
) -> None:
    fill(database, run_id, OTHER, MENTION, DONG_QUY)
    with database.session() as session:
        assert titles(session, "tan cuong") == [OTHER["title"]]
        assert titles(session, "dong quy tan cuong") == []
        assert titles(session, "hợp tác xã", limit=2) == titles(session, "hop tac xa")[:2]
        assert len(titles(session, "hop tac xa")) == 3
        # FTS5 and tsquery operators are words here, never syntax errors.
        assert titles(session, 'quy" OR * NEAR( -') == []
        assert titles(session, "dong AND quy") == []
        assert titles(session, "...") == []


def test_search_filters_by_site(database: Database, run_id: int) -> None:
    elsewhere = {**DONG_QUY, "site": "hungyen", "title": "Đông Quý ở Hưng Yên"}
    fill(database, run_id, DONG_QUY, elsewhere)
    with database.session() as session:
        assert titles(session, "dong quy", site="hungyen") == ["Đông Quý ở Hưng Yên"]
        assert len(titles(session, "dong quy")) == 2
        assert titles(session, "dong quy", site="nowhere") == []


def test_title_hits_come_first_and_the_count_is_not_capped_by_the_limit(
    database: Database, run_id: int, db_url: str, tmp_path: Path
) -> None:
    # One article with every word in its long title, archived first (it loses the ties), and 23
    # more hits with the words in their text, some with two of the words four times in their
    # short titles. The words are in most articles: bm25 gives them next to no weight, title or
    # not, and ranks short titles and texts full of them first; ts_rank ranks a title holding two
    # of the words four times before one holding all three once.
    in_title = make_article(
        url="http://lienminhhtx.example/tin-tuc-su-kien/dong-quy-3000.html",
        article_id="3000",
        title="Hợp tác xã Đông Quý mở rộng sản xuất, trồng thêm 20 ha rau màu vụ đông trên đất "
        "bãi ven sông Trà Lý",
        body="Đông Quý trồng thêm 20 ha rau màu vụ đông.",
    )
    crowd = [
        make_article(
            url=f"http://lienminhhtx.example/tin-tuc-su-kien/hop-nhat-{3001 + n}.html",
            article_id=str(3001 + n),
            title=f"Hợp nhất xã: xã Đông Hải, xã Nam Hải hợp thành xã Hải Đông ({n})"
            if n % 2
            else f"Tổng kết năm ({n})",
            body="Hợp tác xã nông nghiệp, hợp tác xã dịch vụ và hợp tác xã vận tải. " * (1 + n % 4),
        )
        for n in range(23)
    ]
    fill(database, run_id, in_title, *crowd)
    with database.session() as session:
        assert titles(session, "hợp tác xã", limit=20)[0] == in_title["title"]
        assert titles(session, "hop tac xa", limit=3)[0] == in_title["title"]
        assert len(titles(session, "hop tac xa", limit=100)) == 24
        assert count_matches(session, "hợp tác xã") == 24
        assert count_matches(session, "hợp tác xã", site="nowhere") == 0
        assert count_matches(session, "dong quy") == 1

    env = {**os.environ, "COOPSPIDER_DATABASE_URL": db_url}
    done = coopspider("search", "hợp tác xã", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 20 and in_title["title"] in lines[0]
    assert done.stderr.strip() == "24 articles match 'hợp tác xã'; the best 20 shown (--limit)"
    every = coopspider("search", "hợp tác xã", "--limit", "24", env=env, cwd=tmp_path)
    assert len(every.stdout.splitlines()) == 24
    assert every.stderr.strip() == "24 articles match 'hợp tác xã'"


def test_index_follows_edits(database: Database, run_id: int) -> None:
    fill(database, run_id, DONG_QUY, OTHER)
    edited = {**DONG_QUY, "title": "Hợp tác xã Quỳnh Hoa mở rộng sản xuất", "body": "Rau màu."}
    fill(database, run_id, edited)
    with database.session() as session:
        assert titles(session, "dong quy") == []
        assert titles(session, "quynh hoa") == [edited["title"]]
        # Edited twice, back and forth: the index still holds exactly one current text each.
    fill(database, run_id, DONG_QUY)
    with database.session() as session:
        assert titles(session, "quynh hoa") == []
        assert titles(session, "dong quy") == [DONG_QUY["title"]]
        assert titles(session, "rau mau") == [DONG_QUY["title"]]


@pytest.mark.slow
def test_migration_indexes_articles_archived_before_it(db_url: str) -> None:
    opened = open_database(db_url)
    with opened.begin() as session:
        run = start_run(session, site="thaibinh", spider="p", base_url="http://x/", started_at=T0)
        for article in (DONG_QUY, MENTION, OTHER):
            store_articles(session, [article], run)
        store_articles(session, [{**OTHER, "title": "Chè Tân Cương được mùa"}], run)
    opened.close()

    downgrade_database(db_url, "0002")  # as if archived before the index existed
    upgrade_database(db_url)
    reopened = open_database(db_url)
    try:
        with reopened.session() as session:
            assert titles(session, "dong quy") == [DONG_QUY["title"], MENTION["title"]]
            assert titles(session, "tan cuong") == ["Chè Tân Cương được mùa"]
            assert titles(session, "duoc mua") == ["Chè Tân Cương được mùa"]
    finally:
        reopened.close()


def test_views_for_browsing_tools(database: Database, run_id: int) -> None:
    fill(database, run_id, DONG_QUY, {**DONG_QUY, "title": "Sửa tiêu đề"}, OTHER)
    readings = [(T0, 1000), (T0 + timedelta(days=2), 1600), (T0 + timedelta(days=3), 50)]
    with database.begin() as session:
        for moment, total in readings:
            counter = {"site": "thaibinh", "url": "http://x/", "total": total, "online": 3}
            save_counter(session, {**counter, "observed_at": moment.isoformat()}, run_id)
    with database.session() as session:
        latest = session.execute(
            text("SELECT article_id, version, title FROM latest_articles ORDER BY article_id")
        ).all()
        assert [tuple(row) for row in latest] == [
            ("2001", 2, "Sửa tiêu đề"),
            ("2003", 1, OTHER["title"]),
        ]
        series = session.execute(
            text(
                "SELECT total, previous_total, delta, days_elapsed, visits_per_day "
                "FROM counter_series ORDER BY observed_at"
            )
        ).all()
    assert [(row[0], row[1], row[2]) for row in series] == [
        (1000, None, None),
        (1600, 1000, 600),
        (50, 1600, -1550),
    ]
    assert float(series[1][3]) == pytest.approx(2.0)
    # 600 visits over two days; a counter that went down has no visits per day.
    assert [None if v is None else float(v) for _, _, _, _, v in series] == [None, 300.0, None]


@pytest.mark.slow
def test_search_command(tmp_path: Path, database_url: str) -> None:
    url = database_url
    opened = open_database(url)
    with opened.begin() as session:
        run = start_run(session, site="thaibinh", spider="p", base_url="http://x/", started_at=T0)
        for article in (DONG_QUY, MENTION, OTHER):
            store_articles(session, [article], run)
        removed = session.scalars(select(Article).where(Article.article_id == "2002")).one()
        removed.removed_at = datetime(2025, 3, 2, tzinfo=UTC)
    opened.close()
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": url}

    done = coopspider("search", "hop tac xa dong quy", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"2024-06-02  {DONG_QUY['title']}  <{DONG_QUY['url']}>",
        f"2024-06-05  {MENTION['title']}  <{MENTION['url']}>  (removed from the site)",
    ]
    assert "2 articles match" in done.stderr

    limited = coopspider("search", "hợp tác xã", "--limit", "1", env=env, cwd=tmp_path)
    assert limited.stdout.splitlines() == [f"2024-06-02  {DONG_QUY['title']}  <{DONG_QUY['url']}>"]

    empty = coopspider("search", "?!", env=env, cwd=tmp_path)
    assert empty.returncode == 2 and "nothing to search for" in empty.stderr
    assert "Traceback" not in empty.stderr


@pytest.mark.slow
def test_a_real_crawl_keeps_the_index(tmp_path: Path, database_url: str) -> None:
    """The spider's writer process archives through the ORM: its articles are searchable."""
    site = build_site()
    url = database_url
    with serve(site) as server:
        crawled = scrapy_crawl(server.base_url, url, tmp_path / "feed.jsonl")
    assert crawled.returncode == 0, crawled.log[-3000:]
    wanted = site.articles[0]
    opened = open_database(url)
    try:
        with opened.session() as session:
            hits = search(session, fold_for_search(wanted.title), limit=50)
            assert wanted.title in [hit.title for hit in hits]
            assert hits[0].title == wanted.title
            holding = {
                item["title"]
                for item in crawled.articles
                if {"hop", "tac", "xa"} <= set(query_words(item["title"] + " " + item["body"]))
            }
            assert holding and set(titles(session, "Hợp tác xã", limit=100)) == holding
    finally:
        opened.close()
