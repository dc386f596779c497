"""The alert message: a Vietnamese subject, a plain-text part and an HTML part for one digest.

Both parts say what the vocabulary words; the HTML part is the `alert_email.html` template of the
monitor's Jinja2 environment, which escapes every piece of page text and links only http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any
from urllib.parse import urljoin

from coopspider.monitor.alert_digest import (
    Baseline,
    CounterAnomaly,
    Digest,
    EditedReport,
    FieldEdit,
    HealthProblem,
    NewReport,
    RemovedReport,
    RestoredReport,
)
from coopspider.monitor.feed import FEED_FILE
from coopspider.monitor.templating import environment
from coopspider.monitor.vocabulary import baseline_sentence as site_baseline_sentence
from coopspider.monitor.vocabulary import (
    counter_anomaly_sentence,
    counts_text,
    date_text,
    feed_link_sentence,
    field_label,
    marked_diff,
    moment_text,
    report_link_sentence,
)
from coopspider.monitor.vocabulary import removal_reason as reason_text
from coopspider.text import strip_controls

SUBJECT_PREFIX = "[coopspider]"
SUBJECT_SITES = 3  # sites named in the subject before "và N trang khác"

SECTION_TITLES = {
    "new": "Tin mới",
    "edited": "Tin được sửa",
    "removed": "Tin bị gỡ",
    "restored": "Tin đăng lại",
    "counters": "Bộ đếm truy cập bất thường",
    "health": "Sự cố khi thu thập",
}
FOOTER = (
    "Thư này do coopspider gửi tự động sau mỗi lần thu thập; mỗi thay đổi chỉ được báo một lần."
)


# -- words shared by the text and HTML parts -------------------------------------------------------


def subject(digest: Digest) -> str:
    """E.g. "[coopspider] 3 tin mới, 1 tin được sửa – thaibinh"."""
    sites = digest.sites
    named = ", ".join(sites[:SUBJECT_SITES])
    if len(sites) > SUBJECT_SITES:
        named += f" và {len(sites) - SUBJECT_SITES} trang khác"
    return f"{SUBJECT_PREFIX} {digest_counts(digest)} – {named}"


def digest_counts(digest: Digest) -> str:
    """The counts of a digest in words (vocabulary.counts_text)."""
    counts = {name: len(items) for name, items in digest.parts().items()}
    archived = sum(baseline.articles for baseline in digest.baselines)
    return counts_text(counts, archived if digest.baselines else None)


def short_message(digest: Digest, link: str | None = None) -> tuple[str, str]:
    """(title, body) of the short message chat channels get: the subject, the counts of each
    site, and when the report's address `link` is configured, links to it and to the Atom feed
    `report` writes beside it."""
    lines = [f"{site}: {digest_counts(digest.for_site(site))}" for site in digest.sites]
    if link:
        lines.append(report_link_sentence(link))
        lines.append(feed_link_sentence(urljoin(link, FEED_FILE)))
    return strip_controls(subject(digest)), strip_controls("\n".join(lines))


def baseline_sentence(baseline: Baseline) -> str:
    return (
        f"{site_baseline_sentence(baseline.site, baseline.articles)} Từ nay bạn sẽ nhận thư khi có "
        "tin mới, tin được sửa hoặc bị gỡ."
    )


def removal_reason(report: RemovedReport) -> str:
    return reason_text(report.reason, report.status)


def counter_sentence(anomaly: CounterAnomaly) -> str:
    return counter_anomaly_sentence(
        anomaly.anomaly, anomaly.total, anomaly.previous_total, anomaly.runs
    )


def health_sentence(problem: HealthProblem) -> str:
    when = moment_text(problem.run_started_at)
    details = problem.details
    if problem.kind == "no_articles":
        return (
            f"Lần thu thập lúc {when} không tìm thấy bài viết nào, trong khi kho đã có "
            f"{details.get('archived')} bài của trang này: có thể trang đã đổi giao diện "
            "hoặc chặn trình thu thập."
        )
    if problem.kind == "run_failed":
        if details.get("reason") == "unfinished":
            return f"Lần thu thập bắt đầu lúc {when} không kết thúc (có thể đã bị dừng đột ngột)."
        if details.get("reason") == "home_page_unread":
            return (
                f"Lần thu thập lúc {when} không đọc được trang chủ: trang có thể đang ngừng "
                "hoạt động hoặc đã đổi địa chỉ."
            )
        return f"Lần thu thập lúc {when} không hoàn tất (lý do: {details.get('reason')})."
    if problem.kind == "pages_unparsed":
        return (
            f"Lần thu thập lúc {when}: {details.get('unparsed')} trên {details.get('pages')} "
            "trang bài viết không đọc được (thiếu tiêu đề hoặc nội dung)."
        )
    if problem.kind == "dates_unparsed":
        return (
            f"Lần thu thập lúc {when}: không hiểu được ngày đăng của {details.get('unparsed')} "
            f"trên {details.get('articles')} bài."
        )
    return f"Lần thu thập lúc {when}: {problem.kind}."


def report_line(report: NewReport) -> str:
    """Date and category of a new report."""
    category = f" · Chuyên mục: {report.category}" if report.category else ""
    return f"Ngày đăng: {date_text(report.published_at)}{category}"


def field_edit_label(edit: FieldEdit) -> str:
    return field_label(edit.field)


# -- plain text ------------------------------------------------------------------------------------


def render_text(digest: Digest) -> str:
    """The plain-text part: per site, each section with its reports, links in angle brackets."""
    lines: list[str] = []
    for site in digest.sites:
        part = digest.for_site(site)
        lines += [f"== Trang {site} ==", ""]
        for baseline in part.baselines:
            lines += [baseline_sentence(baseline), ""]
        _text_section(lines, "new", part.new, _text_new)
        _text_section(lines, "edited", part.edited, _text_edited)
        _text_section(lines, "removed", part.removed, _text_removed)
        _text_section(lines, "restored", part.restored, _text_restored)
        _text_section(lines, "counters", part.counters, lambda a: [f"- {counter_sentence(a)}"])
        _text_section(lines, "health", part.health, lambda p: [f"- {health_sentence(p)}"])
    lines += ["-- ", FOOTER]
    return "\n".join(lines) + "\n"


def _text_section(
    lines: list[str], name: str, items: Sequence[Any], render: Callable[[Any], list[str]]
) -> None:
    if not items:
        return
    lines += [f"{SECTION_TITLES[name].upper()} ({len(items)})", ""]
    for item in items:
        lines += render(item)
        lines.append("")


def _text_new(report: NewReport) -> list[str]:
    lines = [f"* {report.title}", f"  {report_line(report)}", f"  <{report.url}>"]
    lines += [f"  {line}" for line in report.excerpt.splitlines()]
    return lines


def _text_edited(report: EditedReport) -> list[str]:
    lines = [f"* {report.title}", f"  <{report.url}>"]
    for edit in report.edits:
        changed = marked_diff(edit.pieces)
        lines.append(f"  {field_edit_label(edit)}: {' '.join(f'{changed} {edit.more}'.split())}")
    return lines


def _text_removed(report: RemovedReport) -> list[str]:
    return [f"* {report.title} ({removal_reason(report)})", f"  <{report.url}>"]


def _text_restored(report: RestoredReport) -> list[str]:
    return [f"* {report.title}", f"  <{report.url}>"]


# -- HTML ------------------------------------------------------------------------------------------


def render_html(digest: Digest) -> str:
    """The HTML part: the same content as the text part, page text escaped, originals linked."""
    return (
        environment()
        .get_template("alert_email.html")
        .render(
            digest=digest,
            subject=subject(digest),
            section_titles=SECTION_TITLES,
            footer=FOOTER,
            baseline_sentence=baseline_sentence,
            report_line=report_line,
            field_edit_label=field_edit_label,
            removal_reason=removal_reason,
            counter_sentence=counter_sentence,
            health_sentence=health_sentence,
        )
    )


# -- the message -----------------------------------------------------------------------------------


class _MailPolicy(EmailPolicy):
    """`email.policy.default`, but the Subject is folded by `email.header.Header`.

    The default policy's folder (Python 3.11-3.13: CPython gh-144156) can put the space between
    two words at a fold between two encoded words, where RFC 2047 decoders drop it ("bất
    thường" read back as "bấtthường"). `Header` keeps every space inside an encoded word.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() != "subject":
            return super().fold(name, value)
        encoded = Header(str(value), charset="utf-8", header_name=name).encode(
            linesep=self.linesep, maxlinelen=self.max_line_length
        )
        return f"{name}: {encoded}{self.linesep}"

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() != "subject":
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


MAIL_POLICY = _MailPolicy()


def compose_message(
    digest: Digest,
    *,
    sender: str,
    recipients: Sequence[str],
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """multipart/alternative, UTF-8: the text part, then the HTML part."""
    message = EmailMessage(policy=MAIL_POLICY)
    # Page text of an archive written before normalisation dropped control characters may hold
    # some: none reaches a mail reader or the terminal of a dry run.
    message["Subject"] = strip_controls(subject(digest))
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    # RFC 3834: an automatic message, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    text, html_part = strip_controls(render_text(digest)), strip_controls(render_html(digest))
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(html_part, subtype="html", charset="utf-8", cte="base64")
    return message


def preview(message: EmailMessage) -> str:
    """The message as a person reads it: headers, then the text part."""
    text_part = message.get_body(preferencelist=("plain",))
    body = text_part.get_content() if text_part is not None else ""
    headers = "".join(
        f"{name}: {message[name]}\n" for name in ("Subject", "From", "To") if message[name]
    )
    return headers + "\n" + body
