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
    article_versions,
    content_hash,
    count_articles,
    find_articles,
    finish_run,
    get_run,
    latest_versions,
    normalize_text,
    parse_timestamp,
    save_article,
    save_counter,
    start_run,
    store_article,
)
from storage.tracking import (
    GoneSeen,
    KnownArticle,
    ListingSeen,
    archive_article,
    confirm_unchanged,
    finish_tracking,
    is_baseline_run,
    known_articles,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "EVENT_KINDS",
    "GoneSeen",
    "KnownArticle",
    "ListingSeen",
    "VIETNAM_TZ",
    "Article",
    "ArticleVersion",
    "Base",
    "ChangeEvent",
    "CounterObservation",
    "CrawlRun",
    "SaveResult",
    "alembic_config",
    "archive_article",
    "confirm_unchanged",
    "article_as_dict",
    "article_versions",
    "content_hash",
    "count_articles",
    "create_db_engine",
    "downgrade_database",
    "finish_tracking",
    "is_baseline_run",
    "known_articles",
    "find_articles",
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
    "store_article",
    "upgrade_database",
]
