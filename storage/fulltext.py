"""Full-text search over the latest version of every article, blind to accents and case.

Both databases index text folded in Python by `fold_for_search` (NFD, every combining mark
dropped, đ/Đ to d, lower case), so `hop tac xa dong quy` finds `Hợp tác xã Đông Quý` the same
way everywhere and nothing depends on a database extension (PostgreSQL's unaccent needs a
superuser to install; SQLite's own `remove_diacritics` leaves đ alone, it is a letter of its
own, not d with a mark).

- SQLite: `search_index`, a contentless FTS5 table (only the index is stored, no second copy of
  the text) whose rowid is the id of the article's latest row in `article_versions`.
- PostgreSQL: `search_index(article_pk, version_id, title tsvector, document tsvector)`, a GIN
  index on the document (title and body).

Hits whose title holds every word come first, then the others; within each, SQLite ranks by
bm25 (the title weighted ten times the body), PostgreSQL by the title's ts_rank.

Every new row of `article_versions` is indexed by `index_versions` in the transaction that
inserts it (`store_articles` is the one code that adds versions), replacing its article's
previous text, so the index follows every new and edited article whichever process writes.
Migration 0005 indexes what was archived before it. A contentless FTS5 row is removed by giving
back the exact text it was indexed with; `fold_for_search` and `_indexed_text` define that
text, so changing either needs a migration that rebuilds the index.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import (
    Connection,
    Select,
    case,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnClause, ColumnElement, TextClause
from sqlalchemy.sql.selectable import TableClause

from storage.schema import article_versions, articles

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.orm import Session

    from storage.reading import Reader

    # What the index's writes run on: the archiving session, or a migration's connection.
    Executor: TypeAlias = Connection | Session

SEARCH_INDEX = "search_index"
# A query is a few words, a pasted title at most. Beyond these bounds search refuses it: on SQLite
# a query's cost grows faster than its length (1,024 common words took 27 s on 100,000 articles;
# see bench/bench_report.py), and no one types so much to find one article.
MAX_QUERY_WORDS = 64
MAX_QUERY_CHARS = 1000
# The most hits one search returns: far more than anyone reads; `coopspider export` gives all.
MAX_HITS = 10_000
# FTS5 ranks a word in the title as worth ten in the body (bm25 column weights).
_SQLITE_RANK = "bm25(search_index, 10.0, 1.0)"
_WORD = re.compile(r"\w+")
_log = logging.getLogger(__name__)


class _BareLetters(dict[int, str]):
    """A `str.translate` table from each character to its canonical decomposition (NFD) without
    combining marks, đ/Đ to d/D; filled as characters are met. Per character it gives what NFD
    of the whole string gives, since NFD only reorders the combining marks it then drops; the
    lookups, in C, fold Vietnamese text 3.5 times faster than NFD and a join over every character.
    The index depends on this text: it must stay exactly what whole-string NFD gives."""

    def __missing__(self, code: int) -> str:
        char = {"đ": "d", "Đ": "D"}.get(chr(code), chr(code))
        decomposed = unicodedata.normalize("NFD", char)
        self[code] = bare = "".join(part for part in decomposed if not unicodedata.combining(part))
        return bare


_BARE_LETTERS = _BareLetters()

# (article_pk, article_versions.id, title, body) of one version to index.
IndexedVersion = tuple[int, int, str, str]


class _IndexedText(TypedDict):
    title: str
    body: str


class _IndexRow(_IndexedText):
    """The parameters of one version's row in the search index."""

    article_pk: int
    version_id: int


@dataclass(frozen=True)
class SearchHit:
    """One article that matches a query, as its latest version shows it."""

    article_pk: int
    site: str
    url: str
    title: str
    published_at: datetime | None
    removed_at: datetime | None


def fold_for_search(value: str | None) -> str:
    """`value` without accents, marks or case, for the search index: 'Hợp tác xã Đông Quý' ->
    'hop tac xa dong quy'. Every combining mark is dropped, so the length may change (unlike
    coopspider.text.fold_keeping_offsets)."""
    if not value:
        return ""
    return value.translate(_BARE_LETTERS).casefold()


def query_words(query: str) -> list[str]:
    """The folded words of a search query, each once; every one of them must occur in a hit."""
    return list(dict.fromkeys(_WORD.findall(fold_for_search(query))))


def check_query(query: str, limit: int) -> None:
    """Raise ValueError, with a message for the user, for a query or limit out of bounds."""
    if (words := len(_WORD.findall(fold_for_search(query)))) > MAX_QUERY_WORDS:
        raise ValueError(
            f"the query has {words:,} words; search takes at most {MAX_QUERY_WORDS} "
            "(every word must occur in a hit: a few distinctive ones find it)"
        )
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(
            f"the query is {len(query):,} characters long; search takes at most "
            f"{MAX_QUERY_CHARS:,} (a few words, or a title)"
        )
    if not 1 <= limit <= MAX_HITS:
        raise ValueError(f"the limit of hits must be from 1 to {MAX_HITS:,}, got {limit}")


def described_by_models(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's `include_name` hook: False for the search index and SQLite's FTS5 shadow
    tables, which are raw SQL of their migration that no model describes."""
    is_index = name == SEARCH_INDEX or (name or "").startswith(SEARCH_INDEX + "_")
    return not (type_ == "table" and is_index)


def _dialect(executor: Executor) -> str:
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    return bind.dialect.name


def _indexed_text(title: str, body: str) -> _IndexedText:
    return {"title": fold_for_search(title), "body": fold_for_search(body)}


_SQLITE_INSERT = text(
    "INSERT INTO search_index (rowid, title, body) VALUES (:version_id, :title, :body)"
)
_PG_UPSERT = text(
    "INSERT INTO search_index (article_pk, version_id, title, document) VALUES "
    "(:article_pk, :version_id, to_tsvector('simple', :title), "
    "to_tsvector('simple', :title) || to_tsvector('simple', :body)) "
    "ON CONFLICT (article_pk) DO UPDATE SET version_id = excluded.version_id, "
    "title = excluded.title, document = excluded.document"
)
# A PostgreSQL tsvector holds at most 1 MB of lexemes, the distinct words of the text (and the
# parts of hyphenated words): text below this many characters (at most 4 bytes each) fits by far,
# longer text may not.
_SURELY_FITS_CHARS = 100_000
_PROGRAM_LIMIT_EXCEEDED = "54000"  # SQLSTATE of "string is too long for tsvector"


def add_to_index(executor: Executor, versions: Sequence[IndexedVersion]) -> None:
    """Index article versions as their articles' current text (replacing it on PostgreSQL).

    On PostgreSQL the index of a very long text holds the part of it that fits in a tsvector;
    the article itself is archived whole all the same.
    """
    if not versions:
        return
    values: list[_IndexRow] = [
        {"article_pk": pk, "version_id": version_id, **_indexed_text(title, body)}
        for pk, version_id, title, body in versions
    ]
    if _dialect(executor) == "sqlite":
        executor.execute(_SQLITE_INSERT, values)
        return
    short = [v for v in values if len(v["title"]) + len(v["body"]) < _SURELY_FITS_CHARS]
    if short:
        executor.execute(_PG_UPSERT, short)
    for value in values:
        if len(value["title"]) + len(value["body"]) >= _SURELY_FITS_CHARS:
            _index_what_fits(executor, value)


def _index_what_fits(executor: Executor, value: _IndexRow) -> None:
    """Index a long text on PostgreSQL, halving the longer of title and body until it fits."""
    title, body = value["title"], value["body"]
    while True:
        try:
            with executor.begin_nested():
                executor.execute(_PG_UPSERT, {**value, "title": title, "body": body})
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != _PROGRAM_LIMIT_EXCEEDED:
                raise
            if len(body) >= len(title):
                body = body[: len(body) // 2]
            else:
                title = title[: len(title) // 2]
            continue
        if (title, body) != (value["title"], value["body"]):
            _log.warning(
                "Article %s is too long for PostgreSQL's search index: the first %d of its "
                "%d characters are searchable",
                value["article_pk"],
                len(title) + len(body),
                len(value["title"]) + len(value["body"]),
            )
        return


_SQLITE_DELETE = text(
    "INSERT INTO search_index (search_index, rowid, title, body) "
    "VALUES ('delete', :version_id, :title, :body)"
)


def index_versions(
    executor: Executor,
    versions: Sequence[IndexedVersion],
    replaced: Sequence[tuple[int, str, str]] = (),
) -> None:
    """New versions become their articles' searchable text, in the transaction that adds them;
    `replaced` are the versions (id, title, body) they follow, whose text leaves the index (on
    SQLite; PostgreSQL keeps one row an article). A first version replaces nothing."""
    if replaced and _dialect(executor) == "sqlite":
        executor.execute(
            _SQLITE_DELETE,
            [
                {"version_id": version_id, **_indexed_text(title, body)}
                for version_id, title, body in replaced
            ],
        )
    add_to_index(executor, versions)


@dataclass(frozen=True)
class _Matching:
    """How one query reads the index: which rows match, and the keys that order them."""

    index: TableClause  # the search_index table
    version_id: ColumnClause[Any]  # the column of an article's latest version id
    matches: ColumnElement[Any] | TextClause  # the condition on rows that hold every word
    title_first: ColumnElement[int]  # 0 when the title holds every word, else 1
    badness: ColumnElement[Any]  # lower is better, within a title_first tier


def _matching(reader: Reader, words: list[str]) -> _Matching:
    if _dialect(reader) == "sqlite":
        index = table(SEARCH_INDEX, column("rowid"))
        # Each word quoted: FTS5 query syntax (AND, NEAR, *, :) in the query stays plain text.
        match = " ".join(f'"{word}"' for word in words)
        in_title = (
            select(index.c.rowid)
            .where(
                text("search_index MATCH :title_match").bindparams(title_match=f"title : ({match})")
            )
            .correlate(None)
        )
        return _Matching(
            index,
            index.c.rowid,
            text("search_index MATCH :match").bindparams(match=match),
            case((index.c.rowid.in_(in_title), 0), else_=1),
            literal_column(_SQLITE_RANK),  # bm25: lower is better
        )
    index = table(SEARCH_INDEX, column("version_id"), column("title"), column("document"))
    tsquery = func.plainto_tsquery(literal_column("'simple'"), " ".join(words))
    return _Matching(
        index,
        index.c.version_id,
        index.c.document.op("@@")(tsquery),
        case((index.c.title.op("@@")(tsquery), 0), else_=1),
        # Ranked by the title alone: ranking by the whole text reads every matching document
        # (seconds for a common word in 100,000 articles).
        -func.ts_rank(index.c.title, tsquery),
    )


def _on_site(
    statement: Select[Any], version_id: ColumnClause[Any], site: str | None
) -> Select[Any]:
    if site is None:
        return statement
    return (
        statement.join(article_versions, article_versions.c.id == version_id)
        .join(articles, articles.c.id == article_versions.c.article_pk)
        .where(articles.c.site == site)
    )


def count_matches(reader: Reader, query: str, *, site: str | None = None) -> int:
    """How many articles `search` would find for `query` without a limit."""
    words = query_words(query)
    if not words:
        return 0
    found = _matching(reader, words)
    statement = select(func.count()).select_from(found.index).where(found.matches)
    return reader.execute(_on_site(statement, found.version_id, site)).scalar() or 0


def search(
    reader: Reader, query: str, *, site: str | None = None, limit: int = 20
) -> list[SearchHit]:
    """Articles whose latest title or body holds every word of `query`, best match first:
    those whose title holds every word, then the others, each by rank.

    Raises ValueError for a query or limit out of bounds (see check_query)."""
    check_query(query, limit)
    words = query_words(query)
    if not words:
        return []
    found = _matching(reader, words)
    # The best `limit` hits are picked from the index alone (ties: the latest archived first);
    # only they are joined to their articles. A rank alone does not put title hits first: FTS5's
    # bm25 gives a word in most articles next to no weight, title or not, and ts_rank puts a
    # title holding one word many times before one holding them all.
    best = (
        select(
            found.version_id.label("version_id"),
            found.title_first.label("title_first"),
            found.badness.label("badness"),
        )
        .select_from(found.index)
        .where(found.matches)
    )
    best = _on_site(best, found.version_id, site)
    hits = (
        best.order_by(found.title_first, found.badness, found.version_id.desc())
        .limit(limit)
        .subquery()
    )
    statement = (
        select(
            articles.c.id,
            articles.c.site,
            articles.c.url,
            article_versions.c.title,
            article_versions.c.published_at,
            articles.c.removed_at,
        )
        .join(article_versions, article_versions.c.article_pk == articles.c.id)
        .join(hits, hits.c.version_id == article_versions.c.id)
        .order_by(hits.c.title_first, hits.c.badness, article_versions.c.id.desc())
    )
    return [SearchHit(*row) for row in reader.execute(statement)]
