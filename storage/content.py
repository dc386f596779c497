"""An article's content as the archive compares, hashes and shows it: pure functions, no
database. Writers version articles with them; readers show what changed between versions."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

UTC_PLUS_7 = timezone(timedelta(hours=7))  # Vietnam keeps UTC+7 all year, no DST

_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


def normalize_text(value: str | None) -> str:
    """Text as compared for versioning: NFC, invisible characters dropped, whitespace collapsed.

    Every article's fields pass here when it is archived: `str.translate` with a dict looks up
    every character (a fifth of the archive writer's CPU), so it runs only on text that has an
    invisible character; `str.split()` splits on exactly the characters regex `\\s` matches
    (both ask `str.isspace`), several times faster than `re.sub` and `strip`."""
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value)
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def parse_timestamp(value: str | datetime | None, naive_tz: timezone = UTC) -> datetime | None:
    """An aware datetime from ISO 8601 text (or a datetime); naive values are taken in `naive_tz`.

    Empty values give None; malformed text raises ValueError.
    """
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment


def in_utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {moment!r}")
    return moment.astimezone(UTC)


def normalised_content(article: Mapping[str, Any]) -> dict[str, Any]:
    """The content of an article as compared for versioning, one entry per field.

    Differences in Unicode normalisation, no-break spaces or whitespace vanish; the same instant
    written with another UTC offset gives the same date, and an image URL that differs only in
    scheme or port (http vs https, a local mirror) the same image.
    """
    published = parse_timestamp(article.get("published_at"), UTC_PLUS_7)
    return {
        "title": normalize_text(article.get("title")),
        "published_at": in_utc(published).isoformat() if published else "",
        "author": normalize_text(article.get("author")),
        "summary": normalize_text(article.get("summary")),
        "body": normalize_text(article.get("body")),
        "images": [
            [
                _image_key(normalize_text(image.get("url"))),
                normalize_text(image.get("caption")),
            ]
            for image in article.get("images") or ()
        ],
    }


def content_hash(article: Mapping[str, Any]) -> str:
    """sha256 hex of the article's normalised content (see `normalised_content`)."""
    payload = normalised_content(article)
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _image_key(url: str) -> str:
    """An image URL as compared for versioning: without its scheme and port."""
    parts = urlsplit(url)
    return urlunsplit(("", parts.hostname or "", parts.path, parts.query, ""))


CONTENT_FIELDS = ("title", "published_at", "author", "summary", "body", "images")


class StoredContent(Protocol):
    """What a stored version holds of an article's content: an ORM ArticleVersion, or a row of
    the article_versions table."""

    title: str
    published_at: datetime | None
    author: str | None
    summary: str | None
    body: str
    images: list[dict[str, str | None]]


def version_content(version: StoredContent) -> dict[str, Any]:
    """The content fields of a stored version, shaped like an article item."""
    return {
        "title": version.title,
        "published_at": version.published_at,
        "author": version.author,
        "summary": version.summary,
        "body": version.body,
        "images": version.images,
    }


def describe_change(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[list[str], dict[str, list[str]]]:
    """The fields whose normalised content differs, and for each the [old, new] text as people
    read it (paragraphs kept, dates in +07:00, one image per line as "url (caption)")."""
    old_norm, new_norm = normalised_content(old), normalised_content(new)
    fields = [name for name in CONTENT_FIELDS if old_norm[name] != new_norm[name]]
    return fields, {name: [_readable(old, name), _readable(new, name)] for name in fields}


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _readable(content: Mapping[str, Any], field: str) -> str:
    value = content.get(field)
    if field == "published_at":
        moment = parse_timestamp(value, UTC_PLUS_7)
        return vietnam_iso(moment) or ""
    if field == "body":
        paragraphs = (normalize_text(part) for part in _PARAGRAPH_BREAK.split(value or ""))
        return "\n\n".join(part for part in paragraphs if part)
    if field == "images":
        lines = []
        for image in value or ():
            url, caption = normalize_text(image.get("url")), normalize_text(image.get("caption"))
            lines.append(f"{url} ({caption})" if caption else url)
        return "\n".join(lines)
    return normalize_text(value)


def vietnam_iso(moment: datetime | None) -> str | None:
    """`moment` as ISO 8601 text in +07:00; None for None."""
    return moment.astimezone(UTC_PLUS_7).isoformat() if moment else None


def detail_time(value: Any, naive_tz: tzinfo | None = None) -> datetime | None:
    """A time from an event's details (ISO 8601 text): None when absent or malformed; a time
    without an offset is read in `naive_tz`, or is None when none is given."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=naive_tz) if naive_tz is not None else None
    return moment
