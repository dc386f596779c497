"""Storage of crawled articles, their versions, visitor counters and crawl runs (no Scrapy here).

Typical use::

    factory = open_database(resolve_database_url(None))
    with factory.begin() as session:
        run_id = start_run(session, site=..., spider=..., base_url=..., started_at=...)
"""

from storage.changes import list_events, record_event
from storage.db import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    alembic_config,
    create_db_engine,
    downgrade_database,
    open_database,
    resolve_database_url,
    upgrade_database,
)
from storage.models import (
    EVENT_KINDS,
    Article,
    ArticleVersion,
    Base,
    ChangeEvent,
    CounterObservation,
    CrawlRun,
)
from storage.repository import (
    VIETNAM_TZ,
    SaveResult,
    article_as_dict,
    close_abandoned_runs,
    content_hash,
    count_articles,
    finish_run,
    get_run,
    latest_versions,
    normalize_text,
    parse_timestamp,
    save_article,
    save_counter,
    start_run,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "EVENT_KINDS",
    "VIETNAM_TZ",
    "Article",
    "ArticleVersion",
    "Base",
    "ChangeEvent",
    "CounterObservation",
    "CrawlRun",
    "SaveResult",
    "alembic_config",
    "article_as_dict",
    "close_abandoned_runs",
    "content_hash",
    "count_articles",
    "create_db_engine",
    "downgrade_database",
    "finish_run",
    "get_run",
    "latest_versions",
    "list_events",
    "normalize_text",
    "open_database",
    "parse_timestamp",
    "record_event",
    "resolve_database_url",
    "save_article",
    "save_counter",
    "start_run",
    "upgrade_database",
]
