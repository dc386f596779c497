"""A threaded HTTP server on the loopback interface that serves a SampleSite."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from coopspider.sample_site.model import SampleSite
from coopspider.sample_site.render import entity_tag


class RequestLog:
    """Thread-safe record of the requests served: (path, status) in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, int]] = []

    def add(self, path: str, status: int) -> None:
        """Record one request."""
        with self._lock:
            self._entries.append((path, status))

    def entries(self) -> list[tuple[str, int]]:
        """A snapshot of (path, status) pairs."""
        with self._lock:
            return list(self._entries)

    def paths(self) -> list[str]:
        """A snapshot of the requested paths (query strings included)."""
        return [path for path, _ in self.entries()]

    def counts(self) -> Counter[str]:
        """How many times each path was requested."""
        return Counter(self.paths())

    def count(self, path: str) -> int:
        """How many times `path` was requested."""
        return self.counts()[path]

    def clear(self) -> None:
        """Forget every request so far."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        """The requested paths, from a snapshot."""
        return iter(self.paths())


class Validators:
    """ETag and Last-Modified of each article page, the time being when its current content was
    first served: what a server needs to answer conditional requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: dict[str, tuple[str, dt.datetime]] = {}

    def last_modified(self, path: str, tag: str) -> dt.datetime:
        """When the content tagged `tag` was first served at `path` (whole seconds, UTC)."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self._lock:
            known = self._served.get(path)
            if known and known[0] == tag:
                return known[1]
            # Strictly later than the content it replaces, even within the same second.
            moment = max(now, known[1] + dt.timedelta(seconds=1)) if known else now
            self._served[path] = (tag, moment)
            return moment


def not_modified(headers: Message, tag: str, modified: dt.datetime) -> bool:
    """Whether a conditional GET may be answered 304; If-None-Match wins over If-Modified-Since
    (RFC 9110, 13.2.2)."""
    if (match := headers.get("If-None-Match")) is not None:
        return any(candidate.strip() in (tag, "*", "W/" + tag) for candidate in match.split(","))
    if (since := headers.get("If-Modified-Since")) is not None:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class SampleServer:
    """A running server; `site` may be replaced at any time to serve another version.

    Article pages carry ETag and Last-Modified and answer conditional requests with 304 while
    `conditional` is true (the default); set it false to imitate a server that ignores them.
    `statuses` maps request paths to a status served instead of the page (e.g. 503), with a
    short error page. `latency` (seconds) delays every answer, as a distant server would; each
    request waits in its own thread, so concurrent requests overlap.
    """

    def __init__(
        self, site: SampleSite, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0
    ) -> None:
        self.site = site
        self.latency = latency
        self.conditional = True
        self.statuses: dict[str, int] = {}
        self.validators = Validators()
        self.requests = RequestLog()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        # A short poll interval makes close() quick, which many short-lived test servers need.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sample-site",
            daemon=True,
        )
        self._thread.start()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server (tests serve faults with their own)."""
        return _handler_for(self)

    @property
    def address(self) -> tuple[str, int]:
        """The host and TCP port the server listens on."""
        host, port = self._httpd.server_address[:2]
        assert isinstance(host, str)  # an Internet socket's host is text
        return host, port

    @property
    def base_url(self) -> str:
        """Root URL of the site, e.g. "http://127.0.0.1:8123/"."""
        host, port = self.address
        return f"http://{host}:{port}/"

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self.address[1]

    def wait(self) -> None:
        """Block until close() is called from another thread or Ctrl-C is pressed."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> SampleServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(
    site: SampleSite, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0
) -> SampleServer:
    """Serve `site` from a daemon thread; port 0 picks a free port (see `.base_url`); every
    answer waits `latency` seconds."""
    return SampleServer(site, host, port, latency)


def serve_forever(site: SampleSite, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve `site` until Ctrl-C; prints the URL first."""
    server = serve(site, host, port)
    print(f"Serving {len(site.articles)} {site.markup} sample articles at {server.base_url}")
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _handler_for(server: SampleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Microsoft-IIS/8.5"
        sys_version = ""
        timeout = 30  # idle keep-alive connections are dropped rather than held forever

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

        def _respond(self, send_body: bool) -> None:
            if server.latency > 0:
                time.sleep(server.latency)
            host = self.headers.get("Host") or "{}:{}".format(*server.address)
            site = server.site
            status, content_type, body = site.render(self.path, f"http://{host}/")
            if (forced := server.statuses.get(self.path)) is not None:
                status, body = forced, f"<html><body>Lỗi {forced}</body></html>".encode()
            headers = {"Content-Type": content_type}
            tag = entity_tag(site, self.path) if server.conditional and status == 200 else None
            if tag is not None:
                modified = server.validators.last_modified(self.path, tag)
                headers["ETag"] = tag
                headers["Last-Modified"] = format_datetime(modified, usegmt=True)
                if not_modified(self.headers, tag, modified):
                    status, body = 304, b""
            server.requests.add(self.path, status)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Silence the per-request log on stderr."""

    return Handler
