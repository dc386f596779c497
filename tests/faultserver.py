"""The sample site on 127.0.0.1, answering chosen paths with network faults or hostile bodies.

    with FaultServer(build_site()) as server:
        server.faults["/robots.txt"] = status(500)
        server.faults[article.path] = status(503, times=2)   # two 503s, then the real page
        server.faults[other.path] = reset()                  # connection reset, every time
        server.login = ("user", "password")                  # 401 without HTTP Basic auth
        server.hits(article.path)                            # [Hit(path, host, at), ...]
        server.fallback = trap                               # any other path, before the site

A fault is a function `(handler, attempt) -> bool` called with the request's 0-based attempt
number for its path (query string ignored); it answers (or breaks) the request and returns True,
or returns False to let the sample site answer normally.
"""

from __future__ import annotations

import base64
import socket
import struct
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from coopspider.sample_site import SampleArticle, SampleServer, SampleSite

Fault = Callable[["FaultHandler", int], bool]


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    path: str  # with the query string
    host: str  # the Host header as sent
    at: float  # time.monotonic() on arrival


class FaultServer(SampleServer):
    """A threaded HTTP server on 127.0.0.1 serving `site`, except where `faults` say otherwise."""

    def __init__(self, site: SampleSite) -> None:
        self.faults: dict[str, Fault] = {}
        # (user, password) every request must carry as HTTP Basic authentication, else 401.
        self.login: tuple[str, str] | None = None
        self.fallback: Fault | None = None  # asked for the paths no fault names
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        super().__init__(site)
        self._httpd.daemon_threads = True  # a stalled answer must not hold up close()
        # Clients hanging up mid-answer is what these tests provoke: no traceback on stderr.
        self._httpd.handle_error = lambda request, client_address: None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundFaultHandler", (FaultHandler,), {"owner": self})

    def record(self, path: str, host: str) -> int:
        """Record a request; its 0-based attempt number for this path."""
        with self._lock:
            attempt = sum(1 for hit in self._hits if _bare(hit.path) == _bare(path))
            self._hits.append(Hit(path, host, time.monotonic()))
        return attempt

    def hits(self, path: str | None = None) -> list[Hit]:
        """Requests received, all or for one path (query strings ignored)."""
        with self._lock:
            return [hit for hit in self._hits if path is None or _bare(hit.path) == _bare(path)]

    def clear(self) -> None:
        """Forget the faults and the requests so far: the next crawl sees the plain site."""
        with self._lock:
            self._hits.clear()
        self.faults.clear()
        self.fallback = None


def _bare(path: str) -> str:
    return urlsplit(path).path


class FaultHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests; faults use `send` and `render`."""

    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/8.5"
    sys_version = ""
    timeout = 30
    owner: FaultServer

    def do_GET(self) -> None:
        host = self.headers.get("Host", "")
        attempt = self.owner.record(self.path, host)
        if self.owner.login is not None and not self._logged_in(*self.owner.login):
            self.send(401, "text/html", b"<h1>401</h1>", {"WWW-Authenticate": 'Basic realm="x"'})
            return
        fault = self.owner.faults.get(_bare(self.path), self.owner.fallback)
        if fault is not None and fault(self, attempt):
            return
        self.send(*self.render())

    def _logged_in(self, user: str, password: str) -> bool:
        expected = base64.b64encode(f"{user}:{password}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def render(self) -> tuple[int, str, bytes]:
        """The sample site's answer to this request: (status, content type, body)."""
        host = self.headers.get("Host") or f"127.0.0.1:{self.owner.port}"
        return self.owner.site.render(self.path, f"http://{host}/")

    def send(
        self,
        status: int,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header(
            "Content-Length", str(len(body) if declared_length is None else declared_length)
        )
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def finish(self) -> None:
        # A reset fault has closed the socket already: there is nothing left to flush.
        with suppress(OSError, ValueError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request log on stderr."""


def _limited(times: int | None, fault: Fault) -> Fault:
    """`fault` for the first `times` attempts (every attempt when None), then the real page."""

    def apply(handler: FaultHandler, attempt: int) -> bool:
        if times is not None and attempt >= times:
            return False
        return fault(handler, attempt)

    return apply


def status(code: int, times: int | None = None) -> Fault:
    """Answer with an error page of status `code`."""

    def answer(handler: FaultHandler, _attempt: int) -> bool:
        handler.send(code, "text/html; charset=utf-8", f"<h1>Lỗi {code}</h1>".encode())
        return True

    return _limited(times, answer)


def stall(seconds: float, times: int | None = None) -> Fault:
    """Say nothing for `seconds` (longer than the crawl's DOWNLOAD_TIMEOUT), then answer."""

    def wait(handler: FaultHandler, _attempt: int) -> bool:
        time.sleep(seconds)
        with suppress(OSError):  # the client gave up and closed the connection
            handler.send(*handler.render())
        return True

    return _limited(times, wait)


def delayed(seconds: float, fault: Fault) -> Fault:
    """`fault` after `seconds` of silence: a slow server, still within the crawl's timeout."""

    def wait(handler: FaultHandler, attempt: int) -> bool:
        time.sleep(seconds)
        return fault(handler, attempt)

    return wait


def reset(times: int | None = None) -> Fault:
    """Read the request, then reset the connection (RST) without answering."""

    def drop(handler: FaultHandler, _attempt: int) -> bool:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True
        return True

    return _limited(times, drop)


def truncate(keep: float = 0.5, times: int | None = None) -> Fault:
    """Announce the real page's full Content-Length, send only a part of it, then hang up."""

    def cut(handler: FaultHandler, _attempt: int) -> bool:
        code, content_type, body = handler.render()
        handler.send(code, content_type, body[: int(len(body) * keep)], declared_length=len(body))
        handler.close_connection = True
        return True

    return _limited(times, cut)


def redirect(location: Callable[[FaultHandler, int], str], code: int = 302) -> Fault:
    """Redirect to `location(handler, attempt)` (absolute or root-relative)."""

    def move(handler: FaultHandler, attempt: int) -> bool:
        handler.send(code, "text/html", b"", headers={"Location": location(handler, attempt)})
        return True

    return move


def body(content: bytes, content_type: str = "text/html") -> Fault:
    """Answer 200 with `content` as is: binary files, legacy encodings, enormous pages."""

    def answer(handler: FaultHandler, _attempt: int) -> bool:
        handler.send(200, content_type, content)
        return True

    return answer


def rewrite(change: Callable[[bytes], bytes], content_type: str | None = None) -> Fault:
    """The real page passed through `change`, under `content_type` if given."""

    def answer(handler: FaultHandler, _attempt: int) -> bool:
        code, real_type, page = handler.render()
        handler.send(code, content_type or real_type, change(page))
        return True

    return answer


def inject(snippet: str) -> Fault:
    """The real page with `snippet` (HTML, may use {port}) added before `</body>`."""

    def answer(handler: FaultHandler, attempt: int) -> bool:
        extra = snippet.format(port=handler.owner.port).encode()
        return rewrite(lambda page: page.replace(b"</body>", extra + b"</body>", 1))(
            handler, attempt
        )

    return answer


def not_modified(etag: str | None = None, times: int | None = None) -> Fault:
    """Answer "304 Not Modified" whatever the request asked, naming `etag` if given."""

    def answer(handler: FaultHandler, _attempt: int) -> bool:
        handler.send(304, "text/html", b"", headers={"ETag": etag} if etag else None)
        return True

    return _limited(times, answer)


def tagged(etag: str) -> Fault:
    """The real page, with the entity tag `etag` (the plain fault server sends no validators)."""

    def answer(handler: FaultHandler, _attempt: int) -> bool:
        handler.send(*handler.render(), headers={"ETag": etag})
        return True

    return answer


def break_article(server: FaultServer, article: SampleArticle, fault: Fault) -> None:
    """Apply `fault` under every path the article is linked under."""
    for path in article.paths:
        server.faults[path] = fault
