"""`coopspider discover`: learning a site's URL grammar from its own links, then crawling it.

End to end as a user runs it (child processes, a real server on 127.0.0.1, a real archive): for
every URL grammar the sample site can serve, `discover --write` learns the site into a fresh
configuration file, then `coopspider crawl --site NAME` archives every article and nothing else.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import create_engine, text

from coopspider.sample_site import build_site, serve
from coopspider.sample_site.grammars import GRAMMARS
from tests.faultserver import FaultServer, body, rewrite
from tests.helpers import coopspider
from tests.othercms import serve_other_cms

pytestmark = pytest.mark.slow  # every test here crawls or runs processes

# Politeness off for `discover` and `crawl`: the server is ours, on loopback.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
CRAWL_FAST = [*FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
# Enough articles that the longest category has three listing pages.
ARTICLES = 40


def archived(database_url: str, site: str) -> list[tuple[str, str]]:
    """(article id, URL path) of every archived article of `site`."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT article_id, url FROM articles WHERE site = :site"), {"site": site}
            ).all()
    finally:
        engine.dispose()
    return [(article_id, _path(url)) for article_id, url in rows]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path) + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("grammar", sorted(GRAMMARS))
def test_discover_then_crawl_archives_every_article_and_nothing_else(
    grammar: str, tmp_path: Path, database_url: str
) -> None:
    site = build_site(grammar=grammar, articles=ARTICLES)
    config = tmp_path / "coopspider.toml"
    with serve(site) as server:
        learned = coopspider(
            "--config", str(config), "discover", server.base_url, "--name", "learned",
            "--write", *FAST,
        )  # fmt: skip
        discover_requests = list(server.requests)
        crawl = coopspider(
            "--config", str(config), "--database", database_url, "crawl", "--site", "learned",
            *CRAWL_FAST,
        )  # fmt: skip
    assert learned.returncode == 0, learned.stderr[-3000:]
    assert "[sites.learned]" in learned.stdout
    assert len(discover_requests) <= 40
    assert not [path for path in discover_requests if path.startswith("/admin/")]  # robots.txt
    table = tomllib.loads(config.read_text(encoding="utf-8"))["sites"]["learned"]
    assert table["base_url"] == server.base_url
    assert crawl.returncode == 0, crawl.stderr[-3000:] + crawl.stdout[-2000:]

    rows = archived(database_url, "learned")
    assert sorted(article_id for article_id, _ in rows) == sorted(a.key for a in site.articles)
    paths = {path for article in site.articles for path in article.paths}
    assert {path for _, path in rows} <= paths


def test_discovered_site_runs_in_the_scheduled_cycle(tmp_path: Path, database_url: str) -> None:
    """After `discover --write`, `coopspider run` crawls the new site with no other step."""
    site = build_site(grammar="folders" if "folders" in GRAMMARS else "quangtri", articles=30)
    config = tmp_path / "coopspider.toml"
    with serve(site) as server:
        learned = coopspider("--config", str(config), "discover", server.base_url, "--write", *FAST)
        assert learned.returncode == 0, learned.stderr[-3000:]
        cycle = coopspider("--config", str(config), "--database", database_url, "run", *CRAWL_FAST)
    assert cycle.returncode == 0, cycle.stderr[-3000:] + cycle.stdout[-2000:]
    name = next(iter(tomllib.loads(config.read_text(encoding="utf-8"))["sites"]))
    assert name == "127-0-0-1"
    rows = archived(database_url, name)
    assert sorted(article_id for article_id, _ in rows) == sorted(a.key for a in site.articles)


def test_without_write_the_table_goes_to_stdout_only(tmp_path: Path) -> None:
    with serve(build_site(articles=ARTICLES)) as server:
        done = coopspider("discover", server.base_url, *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    table = tomllib.loads(done.stdout)["sites"]["127-0-0-1"]
    assert set(table["urls"]) >= {"article", "listing", "pagination"}
    assert "--write" in done.stderr and not (tmp_path / "coopspider.toml").exists()


def test_write_keeps_the_rest_of_the_file_and_refuses_an_existing_table(tmp_path: Path) -> None:
    config = tmp_path / "coopspider.toml"
    config.write_text(
        '# our settings\n[alerts]\nto = ["editor@example.org"]  # the editor\n\n'
        '[sites.learned]\nbase_url = "https://old.example.org/"\n',
        encoding="utf-8",
    )
    config.chmod(0o640)
    with serve(build_site(articles=ARTICLES)) as server:
        refused = coopspider(
            "--config", str(config), "discover", server.base_url, "--name", "learned", "--write"
        )
        requests_when_refused = len(server.requests)
        forced = coopspider(
            "--config", str(config), "discover", server.base_url, "--name", "learned", "--write",
            "--force", *FAST,
        )  # fmt: skip
        again = coopspider(
            "--config", str(config), "discover", server.base_url, "--name", "learned", "--write",
            "--force", *FAST,
        )  # fmt: skip
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert requests_when_refused == 0  # refused before reading the site
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert again.returncode == 0, again.stderr[-3000:]
    written = config.read_text(encoding="utf-8")
    assert written.startswith('# our settings\n[alerts]\nto = ["editor@example.org"]  # the editor')
    assert written.count("[sites.learned]") == 1 and written.count("# Learned by") == 1
    assert tomllib.loads(written)["sites"]["learned"]["base_url"] == server.base_url
    assert os.stat(config).st_mode & 0o777 == 0o640


def test_a_new_configuration_file_is_private(tmp_path: Path) -> None:
    with serve(build_site(articles=ARTICLES)) as server:
        done = coopspider("discover", server.base_url, "--write", *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert os.stat(tmp_path / "coopspider.toml").st_mode & 0o777 == 0o600
    check = coopspider("config", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/", "not an http:// or https:// URL"),
        ("lienminh.example.org", "not an http:// or https:// URL"),
    ],
)
def test_bad_urls_are_one_line_exit_2(url: str, message: str) -> None:
    done = coopspider("discover", url)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_site_is_exit_2() -> None:
    with serve(build_site()) as server:
        closed = server.base_url
    done = coopspider("discover", closed, *FAST, "-s", "RETRY_ENABLED=0")
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"cannot read {closed}" in done.stderr and "Traceback" not in done.stderr


def test_robots_txt_that_forbids_the_site_is_exit_2() -> None:
    with FaultServer(build_site()) as server:
        server.faults["/robots.txt"] = body(b"User-agent: *\nDisallow: /\n", "text/plain")
        done = coopspider("discover", server.base_url, *FAST)
        paths = [hit.path for hit in server.hits()]
    assert done.returncode == 2, done.stderr[-2000:]
    assert "robots.txt" in done.stderr
    assert paths == ["/robots.txt"]


def test_a_site_without_news_is_exit_1_with_what_was_seen() -> None:
    site = build_site(articles=ARTICLES)
    menu = ["/gioi-thieu-3000.html", "/lich-su-phat-trien-3001.html", "/lien-he.html"]
    with FaultServer(site) as server:
        # Every page is a menu of pages about the alliance, none of them news.
        for number, path in enumerate(["/", *menu]):
            page = (
                f"<html><head><title>Trang {number}</title></head><body><ul>"
                '<li><a href="/gioi-thieu-3000.html">Giới thiệu</a></li>'
                '<li><a href="/lich-su-phat-trien-3001.html">Lịch sử phát triển</a></li>'
                '<li><a href="/lien-he.html">Liên hệ</a></li></ul>'
                "<p>Liên minh Hợp tác xã tỉnh là tổ chức kinh tế - xã hội.</p></body></html>"
            )
            server.faults[path] = body(page.encode())
        done = coopspider("discover", server.base_url, *FAST)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Not learned:" in done.stderr and "no family of links reads as articles" in done.stderr
    assert done.stdout == ""


def test_the_request_budget_is_never_exceeded() -> None:
    with serve(build_site(articles=ARTICLES)) as server:
        done = coopspider("discover", server.base_url, "--max-requests", "6", *FAST)
        served = len(server.requests)
    assert served <= 6
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Not learned:" in done.stderr


def test_a_site_in_another_cms_style(tmp_path: Path, database_url: str) -> None:
    """A site written apart from the sample site (tests/othercms.py): slug-only URLs under one
    and two levels of categories, `?page=N` pagers, a documents section in the article form."""
    config = tmp_path / "coopspider.toml"
    with serve_other_cms() as site:
        learned = coopspider(
            "--config", str(config), "discover", site.base_url, "--name", "other", "--write",
            *FAST,
        )  # fmt: skip
        crawl = coopspider(
            "--config", str(config), "--database", database_url, "crawl", "--site", "other",
            *CRAWL_FAST,
        )  # fmt: skip
        fetched = list(site.requests)
    assert learned.returncode == 0, learned.stderr[-3000:]
    assert crawl.returncode == 0, crawl.stderr[-3000:] + crawl.stdout[-2000:]
    rows = archived(database_url, "other")
    assert sorted(article_id for article_id, _ in rows) == sorted(a.slug for a in site.articles)
    assert {path for _, path in rows} <= {path for a in site.articles for path in a.paths}
    assert not set(site.document_paths) & set(fetched)  # documents are not news


def test_a_crawl_that_knows_no_link_of_the_site_points_to_discover(
    tmp_path: Path, database_url: str
) -> None:
    with serve(build_site(grammar="aspx-query")) as server:
        done = coopspider(
            "--database", database_url, "crawl", "--base-url", server.base_url, "--site", "nieuw",
            *CRAWL_FAST,
        )  # fmt: skip
    assert "coopspider discover" in done.stdout, done.stdout + done.stderr[-2000:]


def test_a_home_page_with_twenty_thousand_links_is_still_learned() -> None:
    """A trap of a home page: its first links are read, the rest ignored, the budget kept."""
    flood = "".join(
        f'<a href="/tin-tuc-su-kien/bai-so-{n}-{100000 + n}.html">Bài số {n} về hợp tác xã</a>'
        for n in range(20000)
    ).encode()
    with FaultServer(build_site(articles=ARTICLES)) as server:
        server.faults["/"] = rewrite(lambda page: page.replace(b"</body>", flood + b"</body>"))
        done = coopspider("discover", server.base_url, *FAST, timeout=120)
        served = len(server.hits())
    assert done.returncode == 0, done.stderr[-3000:]
    assert served <= 40


def test_a_login_in_the_url_is_used_shown_nowhere_and_written_only_to_the_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "coopspider.toml"
    with FaultServer(build_site(articles=ARTICLES)) as server:
        server.login = ("hoptacxa", "s3cr3t-pw")
        url = server.base_url.replace("http://", "http://hoptacxa:s3cr3t-pw@")
        done = coopspider("--config", str(config), "discover", url, "--write", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    assert "hoptacxa:***@" in done.stdout
    table = tomllib.loads(config.read_text(encoding="utf-8"))["sites"]["127-0-0-1"]
    assert table["base_url"] == url
