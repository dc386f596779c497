"""Change events: what each crawl found new, edited or removed, recorded once for every reader.

The diff, the alerts and the report all read these rows and never recompute changes themselves.
The `details` of each kind (JSON; times as ISO 8601 text):

- ``baseline``: the first crawl of a site; one event per site, ``{"articles": int}``.
- ``new``: an article id never seen before; ``{"url", "title", "published_at"}``.
- ``changed``: a new version of a known article; ``{"url", "title", "from_version",
  "to_version", "fields": [field, ...], "diff": {field: [old, new]}}``.
- ``removed``: a known article the site stopped serving; ``{"url", "title", "reason"}`` where
  reason is ``"gone"`` (404/410, with ``"status"``) or ``"unlisted"``.
- ``restored``: a removed article served again; ``{"url", "title"}``.
- ``counter_anomaly``: the visitor counter went down or stayed frozen; ``{"anomaly":
  "decrease" | "frozen", "total", "previous_total", "runs"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import ChangeEvent
from storage.schema import EVENT_KINDS


def record_event(
    session: Session,
    *,
    site: str,
    kind: str,
    run_id: int,
    details: Mapping[str, Any],
    article_pk: int | None = None,
    detected_at: datetime | None = None,
) -> ChangeEvent:
    """Record one change event, written with the session's next flush: archiving a batch of
    articles flushes their events together."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown change event kind {kind!r}; expected one of {EVENT_KINDS}")
    moment = detected_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime not allowed: {moment!r}")
    event = ChangeEvent(
        site=site,
        kind=kind,
        article_pk=article_pk,
        crawl_run_id=run_id,
        detected_at=moment.astimezone(UTC),
        details=dict(details),
    )
    session.add(event)
    return event
