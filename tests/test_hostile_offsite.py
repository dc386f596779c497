"""Hostile sites: redirects and links off the site, crawled from real servers on 127.0.0.1.

The site is the base URL's host and port (http and https, and the default ports, alike): an
article answering 302 to another port of the same host, or to a subdomain, is not followed and
nothing from there is archived; each one is counted and logged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coopspider.sample_site import build_site, serve
from coopspider.urls import same_site
from storage import open_database
from storage.models import Article, CrawlRun
from tests.conftest import scrapy_crawl
from tests.faultserver import FaultServer, inject, redirect


def test_the_site_is_one_host_and_port() -> None:
    base = "http://lienminhhtx.example:8080/"
    assert same_site("https://lienminhhtx.example:8080/a/b-1.html", base)
    assert same_site("http://www.lienminhhtx.example:8080/", base)
    assert not same_site("http://lienminhhtx.example:8081/a/b-1.html", base)
    assert not same_site("http://lienminhhtx.example/a/b-1.html", base)
    assert not same_site("http://cdn.lienminhhtx.example:8080/a/b-1.html", base)
    assert not same_site("http://lienminhhtx.example:99999/", base)
    default = "https://lienminhhtx.example/"
    assert same_site("http://lienminhhtx.example/a/b-1.html", default)
    assert same_site("http://lienminhhtx.example:80/", default)
    assert same_site("https://lienminhhtx.example:443/", default)
    assert not same_site("ftp://lienminhhtx.example/", default)


@pytest.mark.slow
def test_redirects_and_links_off_the_site_are_not_followed(
    tmp_path: Path, database_url: str
) -> None:
    site = build_site(articles=6)
    to_other_port, to_subdomain = site.latest()[0], site.latest()[1]
    elsewhere = build_site(articles=6, seed=7)  # what another server on the host would serve
    with FaultServer(site) as server, serve(elsewhere) as other:
        base_url = f"http://localhost:{server.port}/"
        other_article = elsewhere.latest()[2]
        for path in to_other_port.paths:
            server.faults[path] = redirect(
                lambda _h, _a: f"http://localhost:{other.port}{other_article.path}"
            )
        for path in to_subdomain.paths:
            server.faults[path] = redirect(
                lambda _h, _a, path=path: f"http://www2.localhost:{server.port}{path}"
            )
        # A link straight to an article of the other port.
        server.faults["/"] = inject(
            f'<a href="http://localhost:{other.port}{elsewhere.latest()[3].path}">Tin</a>'
        )
        crawled = scrapy_crawl(base_url, database_url, tmp_path / "items.jsonl")
        other_requests = list(other.requests)

    assert crawled.returncode == 0, crawled.log[-3000:]
    assert other_requests == []  # nothing was asked of the other port
    database = open_database(database_url)
    with database.session() as session:
        archived = session.scalars(select(Article)).all()
        (run,) = session.scalars(select(CrawlRun)).all()
    database.close()
    assert {article.article_id for article in archived} == {
        article.article_id for article in site.articles
    } - {to_other_port.article_id, to_subdomain.article_id}
    assert all(article.url.startswith(base_url) for article in archived)
    assert run.stats["coopspider/fetch_failed/offsite_redirect"] == 2
    assert run.stats["coopspider/offsite"] == 2
    assert "coopspider/fetch_failed/dns" not in run.stats  # refused before any lookup
    assert run.stats["coopspider/links/offsite"] >= 1  # the link to the other port
    assert f"Links to another site are not followed, first: http://localhost:{other.port}/" in (
        crawled.log
    )
    for target in (f"localhost:{other.port}", f"www2.localhost:{server.port}"):
        assert f"redirects to http://{target}" in crawled.log
