"""`coopspider run --scrapyd` with real parts: two Scrapyd processes on 127.0.0.1 running the egg
scrapyd-client builds, the PostgreSQL archive they all write to, sample sites on loopback ports,
and a real SMTP server for the alert.

The nodes need an archive several machines can share: these tests run when
COOPSPIDER_TEST_DATABASE=postgresql (CI's PostgreSQL pass) and are skipped otherwise.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from coopspider.exitcodes import EXIT_CRAWL_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from coopspider.sample_site import SampleServer, SampleSite, build_site, serve
from storage import Article, ArticleVersion, CrawlRun, open_database
from tests.conftest import fresh_pg_schema, selected_test_database
from tests.helpers import (
    ROOT,
    SCRAPYD_PROJECT,
    GatedSite,
    ScrapydNode,
    add_egg,
    build_egg,
    clean_env,
    coopspider,
    free_port,
    fresh_article,
    scrapyd_node,
    wait_until,
)
from tests.smtpserver import Mailbox, smtp_server

pytest.importorskip("scrapyd")
pytest.importorskip("scrapyd_client")

pytestmark = pytest.mark.slow

# Politeness off: the sites are ours, on loopback.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "--log-level", "WARNING"]
SITES = {"s1": 2031, "s2": 2032, "s3": 2033}  # site name -> the seed of its sample site


@pytest.fixture(scope="module")
def archive_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The PostgreSQL archive the coordinator and both nodes share."""
    if selected_test_database() != "postgresql":
        pytest.skip("Scrapyd nodes share a PostgreSQL archive: COOPSPIDER_TEST_DATABASE=postgresql")
    admin: Engine = request.getfixturevalue("pg_admin")
    with fresh_pg_schema(admin, "test_scrapyd") as url:
        yield url


@pytest.fixture(scope="module")
def egg(archive_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's egg, as `scrapyd-deploy --build-egg` builds it."""
    return build_egg(tmp_path_factory.mktemp("egg"))


@pytest.fixture(scope="module")
def nodes(
    archive_url: str, egg: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ScrapydNode]]:
    """Two Scrapyd nodes, two jobs at a time each, the project's egg deployed to both."""
    folder = tmp_path_factory.mktemp("scrapyd")
    with (
        scrapyd_node(folder / "node1", archive_url, max_proc=2) as first,
        scrapyd_node(folder / "node2", archive_url, max_proc=2) as second,
    ):
        for node in (first, second):
            add_egg(node, egg)
        yield [first, second]


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, SampleServer]]:
    servers = {name: serve(build_site(articles=12, seed=seed)) for name, seed in SITES.items()}
    yield servers
    for server in servers.values():
        server.close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


def write_config(folder: Path, sites: dict[str, str], mailbox: Mailbox | None = None) -> Path:
    """A coopspider.toml with one [sites.NAME] table per site (and the mail server)."""
    text = "".join(f'[sites.{name}]\nbase_url = "{url}"\n\n' for name, url in sites.items())
    if mailbox is not None:
        text += (
            f'[smtp]\nhost = "127.0.0.1"\nport = {mailbox.port}\n\n'
            '[alerts]\nfrom = "bot@example.org"\nto = ["tin@example.org"]\n'
        )
    config = folder / "coopspider.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run_env(archive_url: str) -> dict[str, str]:
    return {**clean_env(), "COOPSPIDER_DATABASE_URL": archive_url}


def run_scrapyd(
    folder: Path, archive_url: str, nodes: list[str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return coopspider(
        "run", "--scrapyd", ",".join(nodes), *FAST, *extra, env=run_env(archive_url), cwd=folder
    )


def archive_counts(archive_url: str, site: str) -> tuple[int, int, list[tuple[str, str | None]]]:
    """(articles, versions, [(status, finish reason) of each run]) of `site` in the archive."""
    database = open_database(archive_url, read_only=True)
    try:
        with database.session() as session:
            articles = session.scalar(
                select(func.count()).select_from(Article).where(Article.site == site)
            )
            versions = session.scalar(
                select(func.count())
                .select_from(ArticleVersion)
                .join(Article, ArticleVersion.article_pk == Article.id)
                .where(Article.site == site)
            )
            runs = session.execute(
                select(CrawlRun.status, CrawlRun.finish_reason)
                .where(CrawlRun.site == site)
                .order_by(CrawlRun.id)
            ).all()
    finally:
        database.close()
    return int(articles or 0), int(versions or 0), [(status, reason) for status, reason in runs]


def pages_read(archive_url: str, site: str) -> list[int]:
    """How many pages each run of `site` downloaded, oldest first."""
    database = open_database(archive_url, read_only=True)
    try:
        with database.session() as session:
            stats = session.scalars(
                select(CrawlRun.stats).where(CrawlRun.site == site).order_by(CrawlRun.id)
            ).all()
    finally:
        database.close()
    return [int((s or {}).get("downloader/response_count", 0)) for s in stats]


def finished_jobs(node: ScrapydNode) -> list[str]:
    return [job["id"] for job in node.get("listjobs.json", project=SCRAPYD_PROJECT)["finished"]]


def test_sites_spread_over_both_nodes_archived_whole_once_then_incremental(
    tmp_path: Path,
    archive_url: str,
    nodes: list[ScrapydNode],
    sites: dict[str, SampleServer],
    mailbox: Mailbox,
) -> None:
    write_config(tmp_path, {name: server.base_url for name, server in sites.items()}, mailbox)
    urls = [node.url for node in nodes]
    done = run_scrapyd(tmp_path, archive_url, urls)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr[-4000:]
    for node in nodes:
        assert f"on {node.url} as job" in done.stdout, done.stdout  # both nodes took sites
        assert finished_jobs(node), node.log()[-3000:]
    for name, server in sites.items():
        articles = len(server.site.articles)
        assert f"{name}: first crawl, {articles} articles archived as the baseline" in done.stdout
        assert archive_counts(archive_url, name) == (articles, articles, [("finished", "finished")])
    assert len(mailbox.received) == 1, done.stdout  # one digest for the whole run
    assert "alert: sent to tin@example.org" in done.stdout

    # The second run is incremental: one new article on s1, the other sites unchanged.
    site: SampleSite = sites["s1"].site
    site.articles.append(fresh_article(site, "9100", "Hợp tác xã Đông Quý ra mắt"))
    done = run_scrapyd(tmp_path, archive_url, urls)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr[-4000:]
    assert "s1: 1 new, 0 edited, 0 removed, 0 restored articles" in done.stdout
    for name in ("s2", "s3"):
        assert f"{name}: 0 new, 0 edited, 0 removed, 0 restored articles" in done.stdout
        first, second = pages_read(archive_url, name)
        assert second < first, f"{name}: the second crawl read {second} pages, the first {first}"
    assert archive_counts(archive_url, "s1")[:2] == (len(site.articles), len(site.articles))
    assert len(mailbox.received) == 2
    assert "Hợp tác xã Đông Quý ra mắt" in mailbox.received[1].text


@contextmanager
def gated_run(
    folder: Path, archive_url: str, nodes: list[ScrapydNode], site: str, seed: int
) -> Iterator[tuple[GatedSite, subprocess.Popen[str]]]:
    """`coopspider run --scrapyd` in the background on one site whose pages wait for the gate:
    its crawl is surely under way while the test acts."""
    gated = GatedSite(build_site(articles=12, seed=seed))
    with serve(gated) as server:  # type: ignore[arg-type]
        write_config(folder, {site: server.base_url})
        coordinator = subprocess.Popen(
            [sys.executable, "-m", "coopspider.cli", "run", "--scrapyd"]
            + [",".join(node.url for node in nodes), *FAST],
            cwd=folder,
            env=run_env(archive_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert gated.reached.wait(120), "the job never asked for the site"
            yield gated, coordinator
        finally:
            gated.gate.set()
            if coordinator.poll() is None:
                coordinator.kill()
                coordinator.communicate()


def running_jobs(node: ScrapydNode) -> list[str]:
    return [job["id"] for job in node.get("listjobs.json", project=SCRAPYD_PROJECT)["running"]]


def test_a_node_killed_during_a_crawl_its_site_is_completed_on_the_other(
    tmp_path: Path, archive_url: str, nodes: list[ScrapydNode]
) -> None:
    with gated_run(tmp_path, archive_url, nodes, "killed", 2040) as (gated, coordinator):
        running = [node for node in nodes if running_jobs(node)]
        assert len(running) == 1
        victim = running[0]
        victim.stop(signal.SIGKILL)  # the machine goes down with its crawl
        try:
            gated.gate.set()
            out, err = coordinator.communicate(timeout=300)
        finally:
            victim.start()  # for the tests after this one
    assert coordinator.returncode == EXIT_OK, out + err[-4000:]
    assert "scheduling it once more on another node" in out, out
    assert f"Scrapyd node {victim.url} does not answer" in err, err[-3000:]
    articles = len(gated.site.articles)
    # The killed crawl's run is closed as abandoned; the second crawl archived the site whole.
    assert archive_counts(archive_url, "killed") == (
        articles,
        articles,
        [("failed", "abandoned"), ("finished", "finished")],
    )


@pytest.mark.parametrize(
    ("signum", "code", "reason"),
    [
        (signal.SIGINT, EXIT_INTERRUPTED, "interrupted"),
        (signal.SIGTERM, -signal.SIGTERM, "shutdown"),
    ],
)
def test_a_stopped_run_cancels_its_jobs_and_records_why(
    tmp_path: Path,
    archive_url: str,
    nodes: list[ScrapydNode],
    signum: signal.Signals,
    code: int,
    reason: str,
) -> None:
    site = f"stopped-{reason}"
    with gated_run(tmp_path, archive_url, nodes, site, 2041) as (gated, coordinator):
        coordinator.send_signal(signum)
        # The cancelled crawl finishes the page in flight, then records its run.
        threading.Timer(2, gated.gate.set).start()
        out, err = coordinator.communicate(timeout=300)
    assert coordinator.returncode == code, out + err[-4000:]
    assert f"cancelling the Scrapyd jobs of {site}" in err
    assert archive_counts(archive_url, site)[2] == [("failed", reason)]
    wait_until(lambda: not any(running_jobs(node) for node in nodes), "the job to end", 30)


def test_a_second_ctrl_c_stops_waiting_and_kills_the_jobs(
    tmp_path: Path, archive_url: str, nodes: list[ScrapydNode]
) -> None:
    site = "stopped-twice"
    with gated_run(tmp_path, archive_url, nodes, site, 2042) as (_gated, coordinator):
        assert coordinator.stderr is not None
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.extend(coordinator.stderr or ()))
        reader.start()
        coordinator.send_signal(signal.SIGINT)
        # The cancelled crawl waits for its page in flight, which the closed gate holds: the
        # coordinator would wait STOP_WAIT_S (120 s) for it without the second Ctrl-C.
        wait_until(lambda: any("cancelling" in line for line in errors), "the cancel", 60)
        coordinator.send_signal(signal.SIGINT)
        assert coordinator.wait(timeout=60) == EXIT_INTERRUPTED
        reader.join(timeout=30)
    assert any("stopping now: killing the jobs still running" in line for line in errors), errors
    wait_until(lambda: not any(running_jobs(node) for node in nodes), "the job to be killed", 30)


def test_unreachable_eggless_and_broken_nodes_and_no_node_at_all(
    tmp_path: Path,
    archive_url: str,
    egg: Path,
    nodes: list[ScrapydNode],
    sites: dict[str, SampleServer],
) -> None:
    write_config(tmp_path, {"s2": sites["s2"].base_url})
    gone = f"http://127.0.0.1:{free_port()}/"
    # A node whose environment names an archive it cannot reach: its jobs end without a run.
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with scrapyd_node(tmp_path / "broken", nowhere) as broken:
        # The configuration's nodes: the first does not answer, the second has no egg deployed
        # yet (it refuses the job), the third takes the site.
        config = tmp_path / "coopspider.toml"
        listed = ", ".join(f'"{url}"' for url in (gone, broken.url, nodes[1].url))
        config.write_text(config.read_text("utf-8") + f"\n[scrapyd]\nnodes = [{listed}]\n")
        done = coopspider("run", *FAST, env=run_env(archive_url), cwd=tmp_path)
        assert done.returncode == EXIT_OK, done.stdout + done.stderr[-4000:]
        assert f"Scrapyd node {gone} does not answer" in done.stderr
        assert f"Scrapyd node {broken.url} refused: project 'coopspider' not found" in done.stderr
        assert f"s2 ({sites['s2'].base_url}) on {nodes[1].url} as job" in done.stdout
        assert f"on {broken.url}" not in done.stdout

        # With the egg, the broken node takes the job, which ends without a crawl run: the
        # site's second job, on the other node, crawls it.
        add_egg(broken, egg)
        done = run_scrapyd(tmp_path, archive_url, [broken.url, nodes[1].url])
    assert done.returncode == EXIT_OK, done.stdout + done.stderr[-4000:]
    assert f"s2 ({sites['s2'].base_url}) on {broken.url} as job" in done.stdout
    assert "ended without a completed crawl; scheduling it once more on another node" in done.stdout
    assert f"s2 ({sites['s2'].base_url}) on {nodes[1].url} as job" in done.stdout
    statuses = [status for status, _ in archive_counts(archive_url, "s2")[2]]
    assert statuses == ["finished"] * len(statuses)  # the broken node recorded nothing

    other = f"http://127.0.0.1:{free_port()}/"
    done = run_scrapyd(tmp_path, archive_url, [gone, other])
    assert done.returncode == EXIT_CRAWL_FAILED, done.stdout + done.stderr[-4000:]
    crawl_lines = [line for line in done.stdout.splitlines() if line.startswith("  crawl:")]
    assert len(crawl_lines) == 1, done.stdout
    assert crawl_lines[0].startswith("  crawl: no Scrapyd node answers: "), done.stdout
    assert gone in crawl_lines[0] and other in crawl_lines[0]


def test_nodes_asking_for_a_login_get_it_from_the_environment(
    tmp_path: Path, archive_url: str, egg: Path, sites: dict[str, SampleServer]
) -> None:
    write_config(tmp_path, {"s3": sites["s3"].base_url})
    # The node as README's "Several machines" sets it up: the shipped scrapyd.conf, its password
    # in the environment.
    conf = ROOT / "node" / "scrapyd.conf"
    with scrapyd_node(tmp_path / "guarded", archive_url, conf=conf, password="s3cret") as guarded:
        assert guarded.auth is not None
        add_egg(guarded, egg)
        env = {**run_env(archive_url), "COOPSPIDER_SCRAPYD_USERNAME": guarded.auth[0]}
        wrong = coopspider(
            "run", "--scrapyd", guarded.url, *FAST,
            env={**env, "COOPSPIDER_SCRAPYD_PASSWORD": "guess"}, cwd=tmp_path,
        )  # fmt: skip
        right = coopspider(
            "run", "--scrapyd", guarded.url, *FAST,
            env={**env, "COOPSPIDER_SCRAPYD_PASSWORD": "s3cret"}, cwd=tmp_path,
        )  # fmt: skip
    assert wrong.returncode == EXIT_CRAWL_FAILED, wrong.stdout + wrong.stderr[-3000:]
    assert f"{guarded.url} answered HTTP 401" in wrong.stdout
    assert right.returncode == EXIT_OK, right.stdout + right.stderr[-3000:]
    assert f"on {guarded.url} as job" in right.stdout
    for done in (wrong, right):
        assert "s3cret" not in done.stdout + done.stderr


def test_scrapyd_with_a_sqlite_archive_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, {"s1": "http://127.0.0.1:9/"})
    env = {**clean_env(), "COOPSPIDER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    done = coopspider("run", "--scrapyd", "http://127.0.0.1:9", env=env, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.count("\n") == 1, done.stderr
    assert "is a SQLite file on this machine" in done.stderr
    assert not (tmp_path / "a.sqlite3").exists()
