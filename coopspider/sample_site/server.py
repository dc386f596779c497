"""A threaded HTTP server on the loopback interface that serves a SampleSite."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from coopspider.sample_site.model import SampleSite


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


class SampleServer:
    """A running server; `site` may be replaced at any time to serve another version."""

    def __init__(self, site: SampleSite, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site = site
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
    def base_url(self) -> str:
        """Root URL of the site, e.g. "http://127.0.0.1:8123/"."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._httpd.server_address[1]

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


def serve(site: SampleSite, host: str = "127.0.0.1", port: int = 0) -> SampleServer:
    """Serve `site` from a daemon thread; port 0 picks a free port (see `.base_url`)."""
    return SampleServer(site, host, port)


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
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            status, content_type, body = server.site.render(self.path, f"http://{host}/")
            server.requests.add(self.path, status)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Silence the per-request log on stderr."""

    return Handler
