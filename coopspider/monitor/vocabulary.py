"""How the monitor words a change event, in Vietnamese: field labels, values and sentences (pure).

The text diff, the e-mail and the HTML report only lay these words out, so an image, a date or a
removal reason reads the same wherever a reader meets it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from coopspider.dates import prints_time
from coopspider.monitor.worddiff import Operation
from storage.content import UTC_PLUS_7, detail_time

# The fields of an article a reader compares, in reading order.
FIELD_LABELS = {
    "title": "Tiêu đề",
    "published_at": "Ngày đăng",
    "author": "Tác giả",
    "summary": "Tóm tắt",
    "body": "Nội dung",
    "images": "Ảnh và chú thích",
    "category": "Chuyên mục",
}
# What each kind of change event is called: a section of the text diff, a feed entry's title.
EVENT_LABELS = {
    "new": "Bài mới",
    "changed": "Bài đã sửa",
    "removed": "Bài bị gỡ",
    "restored": "Bài đăng lại",
    "counter_anomaly": "Bộ đếm truy cập bất thường",
}
DIFF_CONTEXT_WORDS = 8  # unchanged words kept on each side of an edit in a shortened diff
ELLIPSIS = "…"
UNKNOWN_DATE = "không rõ ngày"

_TOKEN = re.compile(r"\S+|\s+")


# -- values ----------------------------------------------------------------------------------------


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind)


def in_reading_order(names: Iterable[str]) -> list[str]:
    """Field names in the order a reader meets them on the page; unknown ones last."""
    order = list(FIELD_LABELS)
    return sorted(names, key=lambda name: order.index(name) if name in order else len(order))


def number_text(value: int | float | None) -> str:
    """A number the Vietnamese way, thousands separated by dots: 280.451 ("?" when unknown)."""
    return "?" if value is None else f"{value:,}".replace(",", ".")


def signed_number_text(value: int) -> str:
    return ("+" if value > 0 else "") + number_text(value)


def date_text(moment: datetime | None) -> str:
    """The calendar day in Vietnam: 09/01/2025."""
    return moment.astimezone(UTC_PLUS_7).strftime("%d/%m/%Y") if moment else UNKNOWN_DATE


def moment_text(moment: datetime) -> str:
    """A time in Vietnam: 09/01/2025 08:30."""
    return moment.astimezone(UTC_PLUS_7).strftime("%d/%m/%Y %H:%M")


def published_text(moment: datetime, raw: str | None) -> str:
    """A publication date, with its time only when the page printed one or the time is not
    midnight (the metadata gave it): a page that printed a date alone is stored at 00:00."""
    local = moment.astimezone(UTC_PLUS_7)
    midnight = (local.hour, local.minute, local.second) == (0, 0, 0)
    return date_text(local) if midnight and not prints_time(raw) else moment_text(local)


def image_text(image: Mapping[str, Any]) -> str:
    """An image as "url (caption)", the form the change events store (storage.tracking)."""
    url, caption = image.get("url") or "", image.get("caption") or ""
    return f"{url} ({caption})" if caption else str(url)


def value_text(value: Any) -> str:
    """A field's value as the text a reader compares: times in Vietnam, one image per line."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, str):
        moment = detail_time(value, UTC_PLUS_7) if value[:4].isdigit() and "T" in value else None
        return moment_text(moment) if moment else value
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        return "\n".join(image_text(item) for item in value)
    return json.dumps(value, ensure_ascii=False)


# -- sentences -------------------------------------------------------------------------------------


def removal_reason(reason: str | None, status: int | None = None) -> str:
    """Why an article counts as removed (storage.changes: "gone" with a status, "unlisted")."""
    if reason == "gone":
        return f"trang bài viết trả về lỗi {status}" if status else "trang bài viết không còn"
    if reason == "unlisted":
        return "không còn trong danh sách của chuyên mục"
    return reason or "không rõ lý do"


def detected_sentence(site: str, moment: datetime) -> str:
    """Where and when a crawl found a change."""
    return f"Phát hiện trên trang {site} lúc {moment_text(moment)}."


def removed_sentence(reason: str) -> str:
    """Why an article counts as removed, as a sentence (`reason` from `removal_reason`)."""
    return f"Lý do: {reason}."


def restored_sentence() -> str:
    return "Bài viết từng bị gỡ nay lại có trên trang."


def baseline_sentence(site: str, articles: int) -> str:
    return (
        f"Lần thu thập đầu tiên của trang {site}: đã lưu {number_text(articles)} bài viết "
        "làm mốc so sánh."
    )


# What a message counts, by digest part, in the order it lists them.
COUNT_LABELS = {
    "new": "tin mới",
    "edited": "tin được sửa",
    "removed": "tin bị gỡ",
    "restored": "tin đăng lại",
    "counters": "bất thường bộ đếm",
    "health": "sự cố thu thập",
}
NO_CHANGE = "không có thay đổi"


def counts_text(counts: Mapping[str, int], baseline_articles: int | None = None) -> str:
    """E.g. "3 tin mới, 1 tin được sửa"; a first crawl's "bắt đầu theo dõi, đã lưu N bài" first
    (`baseline_articles` not None)."""
    parts = [f"{counts[name]} {label}" for name, label in COUNT_LABELS.items() if counts.get(name)]
    if baseline_articles is not None:
        parts.insert(0, f"bắt đầu theo dõi, đã lưu {baseline_articles} bài")
    return ", ".join(parts) or NO_CHANGE


def report_link_sentence(url: str) -> str:
    """The line that points a short message at the report."""
    return f"Xem chi tiết: {url}"


def feed_link_sentence(url: str) -> str:
    """The line that points a short message at the report's Atom feed."""
    return f"Theo dõi qua Atom: {url}"


def counter_anomaly_sentence(
    anomaly: str, total: int | None, previous_total: int | None, runs: int | None
) -> str:
    if anomaly == "decrease":
        return (
            f"Bộ đếm truy cập giảm từ {number_text(previous_total)} xuống "
            f"{number_text(total)} (bị đặt lại hoặc trang đổi hệ thống?)."
        )
    if anomaly == "frozen":
        during = f" qua {runs} lần thu thập" if runs else ""
        return f"Bộ đếm truy cập đứng yên ở {number_text(total)}{during}."
    return f"Bộ đếm truy cập bất thường ({anomaly}): {number_text(total)}."


# -- word diffs ------------------------------------------------------------------------------------


def shorten_diff(
    pieces: Iterable[tuple[Operation, str]], context: int = DIFF_CONTEXT_WORDS
) -> list[tuple[Operation, str]]:
    """A word diff with each unchanged stretch cut to `context` words beside the edits."""
    pieces = list(pieces)
    shortened: list[tuple[Operation, str]] = []
    for index, (operation, text) in enumerate(pieces):
        if operation != "equal":
            shortened.append((operation, text))
            continue
        tokens = _TOKEN.findall(text)
        words = 2 * context  # a word and the space after it are two tokens
        before = tokens[:words] if index > 0 else []
        after = tokens[-words:] if index < len(pieces) - 1 else []
        if len(before) + len(after) + 1 >= len(tokens):
            shortened.append((operation, text))
            continue
        kept_before = "".join(before).rstrip() + " " if before else ""
        kept_after = " " + "".join(after).lstrip() if after else ""
        shortened.append(("equal", kept_before + ELLIPSIS + kept_after))
    return shortened


def marked_diff(pieces: Iterable[tuple[Operation, str]]) -> str:
    """A word diff as plain text, urlwatch-style: `[-deleted-]{+inserted+}`."""
    marks = {"delete": "[-{}-]", "insert": "{{+{}+}}", "equal": "{}"}
    return "".join(marks[operation].format(text) for operation, text in pieces)


def diff_excerpt(pieces: Iterable[tuple[Operation, str]], more: str = "") -> str:
    """A word diff as marked text (`marked_diff`) cut to a few words around each edit, then the
    note for the changed words left out (`more`), if any."""
    text = marked_diff(shorten_diff(pieces))
    return f"{text}\n{more}" if more else text
