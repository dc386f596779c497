"""Storage of crawled articles, their versions, visitor counters and crawl runs (no Scrapy here).

Typical use::

    with open_database(resolve_database_url(None)) as database, database.begin() as session:
        run_id = start_run(session, site=..., spider=..., base_url=..., started_at=...)

The names below are imported from their modules on first use (PEP 562): a command that needs
only the database's URL or lock helpers (`config check`), or that reads the archive through
`Database.read()` and storage.reading (`diff`, `search`, `export`...), does not import the ORM
and declare the models, a third of a quick command's start-up. The modules without the ORM come
first in _MODULES, so that looking up one of their names imports no module that has it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.alerts import (
        articles_archived_before,
        batch_events,
        batch_health_issues,
        claim_batch,
        create_batch,
        dissolve_batch,
        issue_changes,
        known_channel,
        lock_outbox,
        mark_sent,
        open_issue_kinds,
        pending_batches,
        record_run_health,
        register_channel,
        release_batch,
        runs_to_check,
        unbatched_events,
        unbatched_issues,
        versions_of_events,
    )
    from storage.changes import record_event
    from storage.content import UTC_PLUS_7, content_hash, normalize_text, parse_timestamp
    from storage.db import (
        DATABASE_URL_ENV,
        DEFAULT_DATABASE_URL,
        ArchiveMissing,
        ArchiveNotWritable,
        ArchiveOutdated,
        Database,
        SchemaUnavailable,
        alembic_config,
        check_writable,
        create_db_engine,
        database_problem,
        downgrade_database,
        open_database,
        refuses_writes,
        resolve_database_url,
        sqlite_file,
        upgrade_database,
    )
    from storage.fulltext import (
        SearchHit,
        count_matches,
        described_by_models,
        fold_for_search,
        search,
    )
    from storage.locks import LockHeld, LockUnavailable, archive_lock, file_lock
    from storage.models import (
        AlertBatch,
        AlertBatchEvent,
        AlertBatchIssue,
        AlertChannel,
        Article,
        ArticleVersion,
        Base,
        ChangeEvent,
        CounterObservation,
        CrawlRun,
        HealthCheckedRun,
        HealthIssue,
    )
    from storage.reading import (
        all_versions,
        archived_sites,
        article_as_dict,
        find_articles,
        latest_versions,
        list_events,
        versions_of_article,
    )
    from storage.repository import (
        SaveResult,
        close_abandoned_runs,
        count_articles,
        finish_run,
        get_run,
        latest_run,
        owner_of,
        run_of_process,
        run_owner,
        save_counter,
        start_run,
        store_articles,
    )
    from storage.schema import EVENT_KINDS, HEALTH_KINDS, RUN_INTERRUPTED
    from storage.tracking import (
        GoneSeen,
        KnownArticle,
        ListingSeen,
        archive_articles,
        confirm_unchanged,
        finish_tracking,
        is_baseline_run,
        known_articles,
        walk_may_stop_at_known,
    )

# The modules that hold the names of __all__, the light ones first (see __getattr__).
_MODULES = (
    "db",
    "locks",
    "schema",
    "content",
    "reading",
    "fulltext",
    "alerts",
    "models",
    "repository",
    "changes",
    "tracking",
)


def __getattr__(name: str) -> Any:
    """A name of __all__, from the first of _MODULES that defines it (imported then)."""
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(f"{__name__}.{module_name}")
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LockHeld",
    "LockUnavailable",
    "archive_lock",
    "file_lock",
    "sqlite_file",
    "ArchiveMissing",
    "ArchiveNotWritable",
    "ArchiveOutdated",
    "Database",
    "SchemaUnavailable",
    "check_writable",
    "database_problem",
    "refuses_writes",
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "EVENT_KINDS",
    "HEALTH_KINDS",
    "RUN_INTERRUPTED",
    "GoneSeen",
    "KnownArticle",
    "ListingSeen",
    "UTC_PLUS_7",
    "AlertBatch",
    "AlertBatchEvent",
    "AlertBatchIssue",
    "AlertChannel",
    "Article",
    "ArticleVersion",
    "Base",
    "ChangeEvent",
    "CounterObservation",
    "CrawlRun",
    "HealthCheckedRun",
    "HealthIssue",
    "SaveResult",
    "alembic_config",
    "archived_sites",
    "archive_articles",
    "confirm_unchanged",
    "article_as_dict",
    "articles_archived_before",
    "batch_events",
    "batch_health_issues",
    "claim_batch",
    "known_channel",
    "versions_of_article",
    "close_abandoned_runs",
    "content_hash",
    "count_articles",
    "create_batch",
    "create_db_engine",
    "dissolve_batch",
    "issue_changes",
    "open_issue_kinds",
    "unbatched_events",
    "unbatched_issues",
    "downgrade_database",
    "finish_tracking",
    "is_baseline_run",
    "known_articles",
    "walk_may_stop_at_known",
    "find_articles",
    "finish_run",
    "get_run",
    "latest_run",
    "latest_versions",
    "list_events",
    "lock_outbox",
    "mark_sent",
    "normalize_text",
    "owner_of",
    "run_of_process",
    "run_owner",
    "open_database",
    "parse_timestamp",
    "pending_batches",
    "record_event",
    "record_run_health",
    "register_channel",
    "release_batch",
    "resolve_database_url",
    "runs_to_check",
    "save_counter",
    "start_run",
    "store_articles",
    "upgrade_database",
    "versions_of_events",
    "all_versions",
    # full-text search
    "SearchHit",
    "count_matches",
    "fold_for_search",
    "described_by_models",
    "search",
]
