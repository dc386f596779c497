"""WARC files (ISO 28500): the pages behind the archive's versions and removals, as served.

A crawl hands the HTTP exchange of an article page (an `HttpCapture`'s fields, as a mapping)
to `WarcFiles.write`, which appends a response and a request record, each a gzip member, to the
current file of this process and returns where they are. Files are named after the machine and
the process that wrote them, so crawls on several machines (Scrapyd nodes) never share a file,
and roll over at a size limit. The archive points at the records (`record_captures`); the
pointer is committed only after `WarcFiles.sync`, so no committed row points at a record that is
not whole on disk. A crash can leave a partial record at the end of a file, which nothing points
at (`warcio check` reports it), and records of a transaction rolled back, which are whole.

`read_records` reads one pointed-at record pair back; `write_evidence` copies the pairs of one
article into a standalone WARC file.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import tempfile
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storage import schema
from storage.models import ArticleVersion, ChangeEvent, WarcRecord

SOFTWARE = "coopspider"
# zlib's default level: level 9 (warcio's) costs twice the CPU for about 1% less disk on HTML.
_GZIP_LEVEL = 6
# Request headers never written: a site login (HTTP Basic) and cookies are secrets.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Response headers that describe a transfer the captured body no longer has: the crawler hands
# the body decoded (gzip, chunks undone); replay tools would try to decode it again.
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


class WarcMissing(Exception):
    """A record's WARC file is not in the WARC folder; the message says which and from where."""


@dataclass(frozen=True)
class WarcPointer:
    """Where a record pair is: the file (its name in the WARC folder), the byte offset of the
    response record and the length of the response and request records together."""

    file: str
    offset: int
    length: int


def warc_date(moment: datetime) -> str:
    """A WARC-Date: UTC, seconds precision, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def capture_records(capture: Mapping[str, Any]) -> tuple[bytes, str]:
    """The response and request records of an HTTP exchange, each a gzip member, and the
    response's payload digest (sha1, base 32, as WARC writes it)."""
    fetched_at = datetime.fromisoformat(capture["fetched_at"])
    url = capture["url"]
    builder = RecordBuilder()
    status = int(capture["status"])
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    body = bytes(capture["body"])
    response_headers = [
        (name, value)
        for name, value in capture["response_headers"]
        if name.lower() not in _TRANSFER_HEADERS
    ]
    response_headers.append(("Content-Length", str(len(body))))
    protocol = capture.get("protocol") or "HTTP/1.1"
    warc_headers = {"WARC-Date": warc_date(fetched_at)}
    if capture.get("ip_address"):
        warc_headers["WARC-IP-Address"] = str(capture["ip_address"])
    response = builder.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        warc_headers_dict=warc_headers,
        http_headers=StatusAndHeaders(
            f"{status} {reason}".strip(), response_headers, protocol=protocol
        ),
    )
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    request_headers = [("Host", parts.netloc)] + [
        (name, value)
        for name, value in capture["request_headers"]
        if name.lower() not in _SECRET_HEADERS and name.lower() != "host"
    ]
    request = builder.create_warc_record(
        url,
        "request",
        warc_headers_dict={
            **warc_headers,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
        http_headers=StatusAndHeaders(
            f"{capture.get('method') or 'GET'} {path} {protocol}",
            request_headers,
            is_http_request=True,
        ),
    )
    members = b"".join(_gzip_member(_record_bytes(record)) for record in (response, request))
    return members, response.rec_headers.get_header("WARC-Payload-Digest")


def _record_bytes(record: Any) -> bytes:
    """A record as WARC writes it (uncompressed: each record is gzipped on its own here)."""
    out = io.BytesIO()
    WARCWriter(out, gzip=False).write_record(record)
    return out.getvalue()


def _warcinfo(file_name: str, host: str, pages: Sequence[dict[str, str]] = ()) -> bytes:
    fields = {
        "software": SOFTWARE,
        "hostname": host,
        "format": "WARC File Format 1.0",
        "description": "Article pages archived by coopspider, as served",
    }
    if pages:
        # ReplayWeb.page lists a plain WARC's captures only under Resources; its Pages tab
        # reads them from this line (the json-metadata of the collection it loads).
        fields["json-metadata"] = json.dumps({"type": "collection", "pages": list(pages)})
    info = RecordBuilder().create_warcinfo_record(file_name, fields)
    return _gzip_member(_record_bytes(info))


def replay_pages(records: Sequence[WarcRecord], kinds: Mapping[int, str]) -> list[dict[str, str]]:
    """Each capture as a page of ReplayWeb.page: its URL, its 14-digit WARC timestamp, and a
    title saying what it is ("HTTP 404, removal")."""
    return [
        {
            "url": record.target_uri,
            "timestamp": record.fetched_at.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
            "title": f"HTTP {record.status}, {kinds.get(record.id, 'capture')}",
        }
        for record in records
    ]


def check_folder(folder: str | Path) -> None:
    """Make the WARC folder when missing and try a file in it: OSError when files cannot be
    written there (the crawl says so before it starts, not at its first new article)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass


def machine_name() -> str:
    """This machine's name as file names carry it."""
    return _UNSAFE.sub("_", socket.gethostname()) or "host"


class WarcFiles:
    """The rolling WARC files of this process in `folder`: a file is opened with the first
    record, begins with a warcinfo record and is closed past `max_bytes`."""

    def __init__(self, folder: str | Path, *, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"WARC_MAX_BYTES must be above 0, got {max_bytes}")
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.host = machine_name()
        self._file: IO[bytes] | None = None
        self._name = ""
        self._serial = 0
        self._unsynced = False

    @property
    def current(self) -> str | None:
        """The name of the file being written, if any."""
        return self._name if self._file is not None else None

    def _open_next(self) -> IO[bytes]:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        name = f"{SOFTWARE}-{stamp}-{self.host}-{os.getpid()}-{self._serial:05d}.warc.gz"
        self._serial += 1
        file = open(self.folder / name, "xb")  # noqa: SIM115 - kept open across writes
        file.write(_warcinfo(name, self.host))
        self._file, self._name = file, name
        return file

    def write(self, capture: Mapping[str, Any]) -> tuple[WarcPointer, str]:
        """Append the response and request records of `capture`; where they are and the
        response's payload digest. On disk once `sync` has returned."""
        data, digest = capture_records(capture)
        file = self._file
        if file is None or file.tell() >= self.max_bytes:
            file = self._open_next()
        offset = file.tell()
        file.write(data)
        self._unsynced = True
        return WarcPointer(self._name, offset, len(data)), digest

    def sync(self) -> None:
        """Flush what was written to the disk (before the rows pointing at it are committed)."""
        if self._file is not None and self._unsynced:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._unsynced = False

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None


def record_captures(
    session: Session, warc: WarcFiles, captures: Sequence[tuple[int, Mapping[str, Any]]]
) -> list[int]:
    """Write each capture to the WARC files and add the rows that point at them, each for its
    article (`(article_pk, capture)`), with one statement; the rows' ids, in order."""
    rows = []
    for article_pk, capture in captures:
        pointer, digest = warc.write(capture)
        rows.append(
            {
                "article_pk": article_pk,
                "host": warc.host,
                "file": pointer.file,
                "offset": pointer.offset,
                "length": pointer.length,
                "target_uri": capture["url"],
                "status": int(capture["status"]),
                "fetched_at": datetime.fromisoformat(capture["fetched_at"]).astimezone(UTC),
                "payload_digest": digest,
            }
        )
    if not rows:
        return []
    table = schema.warc_records
    session.execute(insert(table), rows)
    # A file of this process and an offset in it name one record: its id, read back in one query.
    query = select(table.c.id, table.c.file, table.c.offset).where(
        table.c.article_pk.in_({row["article_pk"] for row in rows}), table.c.host == warc.host
    )
    ids = {(file, offset): id_ for id_, file, offset in session.execute(query)}
    return [ids[row["file"], row["offset"]] for row in rows]


def article_records(session: Session, article_pks: Sequence[int]) -> list[WarcRecord]:
    """The WARC records of these articles, in the order they were fetched."""
    query = (
        select(WarcRecord)
        .where(WarcRecord.article_pk.in_(list(article_pks)))
        .order_by(WarcRecord.fetched_at, WarcRecord.id)
    )
    return list(session.scalars(query))


def capture_kinds(session: Session, records: Sequence[WarcRecord]) -> dict[int, str]:
    """What each record is the page of, by record id: "version N", "removal", or "not in the
    archive" (written by a transaction that did not commit its other rows: a retry)."""
    ids = [record.id for record in records]
    kinds = dict.fromkeys(ids, "not in the archive")
    versions = select(ArticleVersion.warc_record_id, ArticleVersion.version).where(
        ArticleVersion.warc_record_id.in_(ids)
    )
    for record_id, number in session.execute(versions):
        if record_id is not None:
            kinds[record_id] = f"version {number}"
    removals = select(ChangeEvent.warc_record_id).where(ChangeEvent.warc_record_id.in_(ids))
    for removal_id in session.scalars(removals):
        if removal_id is not None:
            kinds[removal_id] = "removal"
    return kinds


def read_records(folder: str | Path, record: WarcRecord) -> bytes:
    """The bytes of a record pair as stored (gzip members); WarcMissing when its file is not
    there, ValueError when the bytes there are not that record."""
    path = Path(folder) / record.file
    try:
        with open(path, "rb") as file:
            file.seek(record.offset)
            data = file.read(record.length)
    except FileNotFoundError:
        raise WarcMissing(
            f"WARC file {record.file} (written on {record.host}) is not in {folder}"
        ) from None
    if len(data) != record.length:
        raise ValueError(f"{path}: shorter than the record at offset {record.offset}")
    first = next(iter(ArchiveIterator(io.BytesIO(data))), None)
    uri = first.rec_headers.get_header("WARC-Target-URI") if first is not None else None
    if uri != record.target_uri:
        raise ValueError(f"{path}: offset {record.offset} holds no record of {record.target_uri}")
    return data


def write_evidence(
    folder: str | Path, records: Sequence[WarcRecord], kinds: Mapping[int, str], out: Path
) -> int:
    """A standalone WARC at `out` (a warcinfo record listing the captures as pages, then each
    record pair), written whole or not at all; the number of captures. WarcMissing or
    ValueError before anything is written."""
    pairs = [read_records(folder, record) for record in records]
    partial = out.with_name(f".{out.name}.partial")
    try:
        with open(partial, "wb") as file:
            file.write(_warcinfo(out.name, machine_name(), replay_pages(records, kinds)))
            for data in pairs:
                file.write(data)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return len(pairs)
