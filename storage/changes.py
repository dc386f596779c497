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

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage.schema import EVENT_KINDS, change_events


class EventFields(TypedDict):
    """What a change event says: of which site, what kind, found by which run, its details;
    of which article, when (now by default), the WARC record of a removal's answer."""

    site: str
    kind: str
    run_id: int
    details: Mapping[str, Any]
    article_pk: NotRequired[int | None]
    detected_at: NotRequired[datetime | None]
    warc_record_id: NotRequired[int | None]


def event_row(**fields: Unpack[EventFields]) -> dict[str, Any]:
    """The row of one change event, checked, for `record_events`."""
    kind = fields["kind"]
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown change event kind {kind!r}; expected one of {EVENT_KINDS}")
    moment = fields.get("detected_at") or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime not allowed: {moment!r}")
    return {
        "site": fields["site"],
        "kind": kind,
        "article_pk": fields.get("article_pk"),
        "crawl_run_id": fields["run_id"],
        "detected_at": moment.astimezone(UTC),
        "details": dict(fields["details"]),
        "warc_record_id": fields.get("warc_record_id"),
    }


def record_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record change events (rows of `event_row`), in order, with one statement: archiving a
    batch of articles writes their events together."""
    if rows:
        session.execute(insert(change_events), list(rows))


def record_event(session: Session, **fields: Unpack[EventFields]) -> int:
    """Record one change event; its id."""
    row = event_row(**fields)
    return session.execute(
        insert(change_events).values(row).returning(change_events.c.id)
    ).scalar_one()
