"""The HTTP exchange of a response, as the WARC files keep it (no I/O: the response is read)."""

from __future__ import annotations

from scrapy.http import Headers, Response

from coopspider.items import HttpCapture


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def http_capture(response: Response, fetched_at: str) -> HttpCapture:
    """`response` and the request that got it, read at `fetched_at` (ISO 8601 UTC)."""
    request = response.request
    return HttpCapture(
        url=response.url,
        fetched_at=fetched_at,
        status=response.status,
        request_headers=_pairs(request.headers) if request is not None else [],
        response_headers=_pairs(response.headers),
        body=response.body,
        method=request.method if request is not None else "GET",
        protocol=response.protocol or "HTTP/1.1",
        ip_address=str(response.ip_address) if response.ip_address else None,
    )
