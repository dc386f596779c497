"""Plain-text renderings for people: the diff report and an article's history, in Vietnamese.

Edits are shown word by word, urlwatch-style: `[-removed words-]{+added words+}`, with long
unchanged stretches shortened to a few words of context on each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from coopspider.monitor.worddiff import shown_word_diff
from storage import UTC_PLUS_7

FIELD_LABELS = {
    "title": "Tiêu đề",
    "published_at": "Ngày đăng",
    "author": "Tác giả",
    "summary": "Tóm tắt",
    "body": "Nội dung",
    "images": "Ảnh và chú thích",
}
CONTEXT_WORDS = 6  # words of unchanged text kept on each side of an edit
_INDENT = "      "


def render_report(report: dict[str, Any]) -> str:
    """The diff report as text, grouped by site."""
    sites = sorted({entry["site"] for entry in report["counters"]})
    sites += sorted(
        {e["site"] for key in ("new", "changed", "removed", "restored") for e in report[key]}
        - set(sites)
    )
    if not sites:
        return "Chưa có lần thu thập nào trong kho lưu trữ.\n"
    lines: list[str] = []
    for site in sites:
        lines.extend(_site_section(report, site))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _site_section(report: dict[str, Any], site: str) -> list[str]:
    def of_site(key: str) -> list[dict[str, Any]]:
        return [entry for entry in report[key] if entry["site"] == site]

    lines = [f"== {site} =="]
    for baseline in of_site("baseline"):
        lines.append(
            f"Lần thu thập đầu tiên: đã lưu {_number(baseline['articles'])} bài làm mốc so sánh."
        )
    new, changed, removed, restored = (
        of_site(key) for key in ("new", "changed", "removed", "restored")
    )
    if new:
        lines.append(f"Bài mới ({len(new)}):")
        for entry in new:
            lines.append(f"  • {_date(entry.get('published_at'))}  {entry['title']}")
            lines.append(f"    {entry['url']}")
    if changed:
        lines.append(f"Bài đã sửa ({len(changed)}):")
        for entry in changed:
            lines.append(f"  • {entry['title']}")
            lines.append(f"    {entry['url']}")
            lines.extend(render_field_diffs(entry["fields"], entry["diff"]))
    if removed:
        lines.append(f"Bài bị gỡ ({len(removed)}):")
        for entry in removed:
            lines.append(f"  • {entry['title']} ({_removal_reason(entry)})")
            lines.append(f"    {entry['url']}")
    if restored:
        lines.append(f"Bài đăng lại ({len(restored)}):")
        for entry in restored:
            lines.append(f"  • {entry['title']}")
            lines.append(f"    {entry['url']}")
    if not (new or changed or removed or restored or of_site("baseline")):
        lines.append("Không có bài mới, bài sửa hay bài bị gỡ.")
    for counter in of_site("counters"):
        lines.extend(_counter_lines(counter))
    for error in of_site("errors"):
        lines.append(f"Lỗi: {error['message']} (lần chạy #{error['run_id']})")
    return lines


def render_field_diffs(fields: Iterable[str], diff: dict[str, list[str | None]]) -> list[str]:
    """One block per edited field: its label, then the word-level diff, indented."""
    lines = []
    for name in fields:
        old, new = diff[name]
        lines.append(f"    {FIELD_LABELS.get(name, name)}:")
        text = render_word_diff(old or "", new or "")
        lines.extend(_INDENT + line for line in text.splitlines() or [""])
    return lines


def render_word_diff(old: str, new: str, context: int = CONTEXT_WORDS) -> str:
    """`old` -> `new` as `[-deleted-]{+inserted+}` marks in the unchanged text around them, and
    how many more words changed past the ones shown."""
    shown = shown_word_diff(old, new)
    pieces = shown.pieces
    out = []
    for index, (operation, text) in enumerate(pieces):
        if operation == "delete":
            out.append(f"[-{text}-]")
        elif operation == "insert":
            out.append(f"{{+{text}+}}")
        else:
            out.append(_shorten(text, context, first=index == 0, last=index == len(pieces) - 1))
    if shown.more_words:
        out.append(f"\n{shown.more_sentence}")
    return "".join(out)


def _shorten(text: str, context: int, *, first: bool, last: bool) -> str:
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if text.count(" ") <= keep_head + keep_tail:
        return text
    # Split off the kept words only: an unchanged stretch can be a whole book.
    head = " ".join(text.split(" ", keep_head)[:keep_head])
    tail = " ".join(text.rsplit(" ", keep_tail)[1:]) if keep_tail else ""
    # The space next to an edit is kept: "kết {+năm+} 2024", not "kết{+năm+}2024".
    return " ".join(part for part in (head, "…", tail) if part)


def _removal_reason(entry: dict[str, Any]) -> str:
    if entry.get("reason") == "gone":
        return f"trang trả về lỗi {entry.get('status', 404)}"
    return "không còn trong danh mục"


def _counter_lines(counter: dict[str, Any]) -> list[str]:
    total = counter["total"]
    if total is None:
        return ["Bộ đếm truy cập: không đọc được trên trang chủ."]
    line = f"Bộ đếm truy cập: {_number(total)}"
    if counter["delta"] is not None:
        line += f" ({_signed(counter['delta'])} so với lần trước"
        if counter["per_day"] is not None:
            line += f", khoảng {_number(round(counter['per_day']))} lượt/ngày"
        line += ")"
    if counter["online"] is not None:
        line += f"; đang trực tuyến: {_number(counter['online'])}"
    lines = [line]
    for anomaly in counter["anomalies"]:
        if anomaly["anomaly"] == "decrease":
            lines.append(
                f"  ⚠ Bộ đếm giảm từ {_number(anomaly['previous_total'])} xuống "
                f"{_number(anomaly['total'])} (bị đặt lại hoặc đổi hệ thống?)"
            )
        else:
            lines.append(
                f"  ⚠ Bộ đếm đứng yên ở {_number(anomaly['total'])} suốt {anomaly['runs']} lần "
                "thu thập liên tiếp"
            )
    return lines


def render_history(history: dict[str, Any]) -> str:
    """Every version of an article, each after the first with the word diff from the one before."""
    lines = [history["title"], history["url"], f"Trang: {history['site']}"]
    for index, version in enumerate(history["versions"]):
        lines.append("")
        lines.append(
            f"Phiên bản {version['version']} — lấy về {_moment(version['fetched_at'])} "
            f"(lần chạy #{version['crawl_run_id']}), "
            f"còn thấy đến {_moment(version['last_seen_at'])}"
        )
        if index == 0:
            lines.append(f"    Ngày đăng: {_date(version['published_at'])}")
            lines.append(f"    Tiêu đề: {version['title']}")
        elif version["fields"]:
            lines.extend(render_field_diffs(version["fields"], version["diff"]))
    for event in history["events"]:
        if event["kind"] in ("removed", "restored"):
            what = "Bị gỡ" if event["kind"] == "removed" else "Đăng lại"
            reason = f" ({_removal_reason(event['details'])})" if event["kind"] == "removed" else ""
            lines.append(f"{what} lúc {_moment(event['detected_at'])}{reason}")
    return "\n".join(lines) + "\n"


def _date(value: str | None) -> str:
    if not value:
        return "(không rõ ngày)"
    return datetime.fromisoformat(value).strftime("%d/%m/%Y")


def _moment(value: str) -> str:
    """An ISO time as Vietnamese read it: dd/mm/yyyy HH:MM in UTC+7."""
    return datetime.fromisoformat(value).astimezone(UTC_PLUS_7).strftime("%d/%m/%Y %H:%M")


def _number(value: int | float) -> str:
    """Thousands separated by dots, as Vietnamese write them: 280.451."""
    return f"{value:,}".replace(",", ".")


def _signed(value: int) -> str:
    return ("+" if value > 0 else "") + _number(value)
