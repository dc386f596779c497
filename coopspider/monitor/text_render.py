"""Plain-text renderings for people: the diff report and an article's history, in Vietnamese.

Edits are shown word by word, urlwatch-style: `[-removed words-]{+added words+}`, with long
unchanged stretches shortened to a few words of context on each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coopspider.monitor.vocabulary import (
    baseline_sentence,
    counter_anomaly_sentence,
    date_text,
    diff_excerpt,
    event_label,
    field_label,
    moment_text,
    number_text,
    removal_reason,
    signed_number_text,
    value_text,
)
from coopspider.monitor.worddiff import shown_word_diff
from storage.content import detail_time

_INDENT = "      "


def render_diff(report: dict[str, Any]) -> str:
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
        lines.append(baseline_sentence(site, baseline["articles"]))
    new, changed, removed, restored = (
        of_site(key) for key in ("new", "changed", "removed", "restored")
    )
    if new:
        lines.append(f"{event_label('new')} ({len(new)}):")
        for entry in new:
            lines.append(f"  • {_date(entry.get('published_at'))}  {entry['title']}")
            lines.append(f"    {entry['url']}")
    if changed:
        lines.append(f"{event_label('changed')} ({len(changed)}):")
        for entry in changed:
            lines.append(f"  • {entry['title']}")
            lines.append(f"    {entry['url']}")
            lines.extend(render_field_diffs(entry["fields"], entry["diff"]))
    if removed:
        lines.append(f"{event_label('removed')} ({len(removed)}):")
        for entry in removed:
            lines.append(
                f"  • {entry['title']} ({removal_reason(entry['reason'], entry.get('status'))})"
            )
            lines.append(f"    {entry['url']}")
    if restored:
        lines.append(f"{event_label('restored')} ({len(restored)}):")
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


def render_field_diffs(fields: Iterable[str], diff: dict[str, list[Any]]) -> list[str]:
    """One block per edited field: its label, then the word-level diff, indented."""
    lines = []
    for name in fields:
        old, new = diff[name]
        lines.append(f"    {field_label(name)}:")
        text = render_word_diff(value_text(old), value_text(new))
        lines.extend(_INDENT + line for line in text.splitlines() or [""])
    return lines


def render_word_diff(old: str, new: str) -> str:
    """`old` -> `new` as `[-deleted-]{+inserted+}` marks in the unchanged text around them
    (shortened), and how many more words changed past the ones shown."""
    shown = shown_word_diff(old, new)
    return diff_excerpt(shown.pieces, shown.more_sentence)


def _counter_lines(counter: dict[str, Any]) -> list[str]:
    total = counter["total"]
    if total is None:
        return ["Bộ đếm truy cập: không đọc được trên trang chủ."]
    line = f"Bộ đếm truy cập: {number_text(total)}"
    if counter["delta"] is not None:
        line += f" ({signed_number_text(counter['delta'])} so với lần trước"
        if counter["per_day"] is not None:
            line += f", khoảng {number_text(round(counter['per_day']))} lượt/ngày"
        line += ")"
    if counter["online"] is not None:
        line += f"; đang trực tuyến: {number_text(counter['online'])}"
    lines = [line]
    for anomaly in counter["anomalies"]:
        sentence = counter_anomaly_sentence(
            anomaly["anomaly"],
            anomaly.get("total"),
            anomaly.get("previous_total"),
            anomaly.get("runs"),
        )
        lines.append(f"  ⚠ {sentence}")
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
            details = event["details"]
            reason = (
                f" ({removal_reason(details.get('reason'), details.get('status'))})"
                if event["kind"] == "removed"
                else ""
            )
            lines.append(f"{what} lúc {_moment(event['detected_at'])}{reason}")
    return "\n".join(lines) + "\n"


def _date(value: str | None) -> str:
    return date_text(detail_time(value))


def _moment(value: str) -> str:
    """An ISO time as Vietnamese read it."""
    moment = detail_time(value)
    return moment_text(moment) if moment else value
