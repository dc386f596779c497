"""Wall time of a whole `coopspider run --scrapyd` with one Scrapyd node against two, nothing lost.

Run: .venv/bin/python bench/bench_scrapyd.py [--sites 8] [--articles 12] [--latency 0.1]
     [--delay 2] [--max-proc 2] [--postgres URL]

Serves `--sites` sample sites on 127.0.0.1 (different articles each), every answer `--latency`
seconds late as from a distant server, and crawls them all with `coopspider run --scrapyd` at
polite settings (each site's `download_delay` = `--delay`, one request at a time per site, the
defaults of a site profile) twice, each time into a fresh PostgreSQL schema: first with one
Scrapyd node (the baseline), then with two. Each node is a real Scrapyd process on loopback with
the archive URL in its environment and the egg scrapyd-deploy built, deployed with
`scrapyd-deploy --egg`; the wall time is that of the whole `run` (schedule, follow the jobs,
diff, alert). Printed: each run's wall time and the ratio one node / two nodes (close to 2 when
the second node's slots are used), after checking that nothing was lost: every site's articles
are all archived, each site crawled once and finished, the same counts and the same number of
requests served in both runs.

Scrapyd's `max_proc` (crawls one node runs at once) is what one node is limited by: both nodes
share this machine, and with Scrapyd's default (4 per CPU) one node would crawl every site at once
and a second could add nothing. `--max-proc 2` makes each node a machine that can take two polite
crawls at a time, so 8 sites take four rounds on one node and two on two.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from coopspider.sample_site import SampleServer, build_site, serve  # noqa: E402
from storage import Article, CrawlRun, open_database  # noqa: E402

PROJECT = "coopspider"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60


@dataclass
class Outcome:
    """What one `coopspider run --scrapyd` took and left in its archive."""

    nodes: int
    seconds: float
    exit_code: int
    articles: dict[str, int]  # site -> articles archived
    runs: dict[str, list[str]]  # site -> status of each crawl run recorded
    requests: dict[str, int]  # site -> requests its server answered
    load: tuple[float, float, float]  # the machine's load average just before the run


@contextlib.contextmanager
def fresh_schema(admin_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema of the server; dropped afterwards."""
    schema = f"bench_scrapyd_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def scrapyd_nodes(
    count: int, folder: Path, database_url: str, max_proc: int
) -> Iterator[list[str]]:
    """`count` Scrapyd processes on 127.0.0.1, each in its own folder with its scrapyd.conf and
    the archive URL in its environment; their URLs. Stopped, with their jobs, on leaving."""
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    try:
        for number in range(1, count + 1):
            home = folder / f"node{number}"
            home.mkdir()
            port = free_port()
            home.joinpath("scrapyd.conf").write_text(
                f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\n"
                f"max_proc = {max_proc}\npoll_interval = 1\n"
                "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n",
                encoding="utf-8",
            )
            with home.joinpath("scrapyd.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [str(BIN / "scrapyd")],
                        cwd=home,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its jobs stop with it
                    )
                )
            urls.append(f"http://127.0.0.1:{port}/")
        for url, process in zip(urls, processes, strict=True):
            wait_until_answering(url, process)
        yield urls
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Scrapyd at {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "daemonstatus.json", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Scrapyd at {url} did not answer within {START_TIMEOUT_S} s")


def deploy(egg: Path, urls: list[str], folder: Path) -> None:
    """Send the egg to every node with scrapyd-deploy, each node a target of the deployer's
    own scrapy.cfg."""
    config = folder / "deployer"
    config.mkdir()
    targets = [f"[deploy:node{n}]\nurl = {url}\n" for n, url in enumerate(urls, 1)]
    config.joinpath("scrapy.cfg").write_text("\n".join(targets), encoding="utf-8")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config)}
    for number in range(1, len(urls) + 1):
        done = subprocess.run(
            [str(BIN / "scrapyd-deploy"), f"node{number}", "--egg", str(egg), "--version", "1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or '"status": "ok"' not in done.stdout:
            raise SystemExit(f"deploying to node{number} failed:\n{done.stdout}{done.stderr}")


def build_egg(folder: Path) -> Path:
    egg = folder / f"{PROJECT}.egg"
    done = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"scrapyd-deploy --build-egg failed:\n{done.stderr[-3000:]}")
    return egg


def write_config(path: Path, servers: dict[str, SampleServer], delay: float) -> None:
    """A configuration file with one [sites.NAME] table per sample site, at polite settings."""
    tables = [
        f'[sites.{name}]\nbase_url = "{server.base_url}"\n'
        f"download_delay = {delay}\nconcurrency = 1\n"
        for name, server in servers.items()
    ]
    path.write_text("\n".join(tables), encoding="utf-8")


def archived(database_url: str) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Articles archived per site, and the status of each crawl run recorded per site."""
    database = open_database(database_url, read_only=True)
    try:
        with database.session() as session:
            counts = session.execute(
                select(Article.site, func.count()).group_by(Article.site)
            ).all()
            runs: dict[str, list[str]] = {}
            for site, status in session.execute(
                select(CrawlRun.site, CrawlRun.status).order_by(CrawlRun.id)
            ):
                runs.setdefault(site, []).append(status)
    finally:
        database.close()
    return {site: count for site, count in counts}, runs


def run_once(
    nodes: int,
    servers: dict[str, SampleServer],
    args: argparse.Namespace,
    egg: Path,
    folder: Path,
) -> Outcome:
    """One whole `coopspider run --scrapyd` over `nodes` fresh nodes into a fresh archive."""
    work = folder / f"{nodes}-nodes"
    work.mkdir()
    config = work / "coopspider.toml"
    write_config(config, servers, args.delay)
    with fresh_schema(args.postgres) as database_url:
        open_database(database_url).close()  # migrated before the clock starts, as in use
        with scrapyd_nodes(nodes, work, database_url, args.max_proc) as urls:
            deploy(egg, urls, work)
            for server in servers.values():
                server.requests.clear()
            env = {**os.environ, "COOPSPIDER_DATABASE_URL": database_url}
            command = [str(BIN / "coopspider"), "run", "--scrapyd", ",".join(urls)]
            command += ["--config", str(config)]
            load = os.getloadavg()
            started = time.monotonic()
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
            seconds = time.monotonic() - started
            (work / "run.out").write_text(done.stdout + done.stderr, encoding="utf-8")
        articles, runs = archived(database_url)
    requests = {name: len(server.requests) for name, server in servers.items()}
    if done.returncode != 0:
        print(f"run over {nodes} node(s) exited {done.returncode}:\n{done.stdout[-3000:]}")
        print(done.stderr[-3000:], file=sys.stderr)
    return Outcome(nodes, seconds, done.returncode, articles, runs, requests, load)


def losses(outcome: Outcome, servers: dict[str, SampleServer]) -> list[str]:
    """What the run left out: sites not archived whole, not crawled exactly once, or failed."""
    problems = []
    if outcome.exit_code != 0:
        problems.append(f"{outcome.nodes} node(s): run exited {outcome.exit_code}")
    for name, server in servers.items():
        expected = len(server.site.articles)
        if (got := outcome.articles.get(name, 0)) != expected:
            problems.append(f"{outcome.nodes} node(s): {name} has {got}/{expected} articles")
        if (statuses := outcome.runs.get(name, [])) != ["finished"]:
            problems.append(f"{outcome.nodes} node(s): {name} crawl runs {statuses}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--articles", type=int, default=12, help="per site (default 12)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds (default 0.1)")
    parser.add_argument("--delay", type=float, default=2.0, help="download_delay (default 2)")
    parser.add_argument("--max-proc", type=int, default=2, help="per node (default 2)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("COOPSPIDER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a server and database where a schema may be created (default: %(default)s)",
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        servers = {
            f"site{n}": stack.enter_context(
                serve(build_site(articles=args.articles, seed=n), latency=args.latency)
            )
            for n in range(1, args.sites + 1)
        }
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        egg = build_egg(folder)
        outcomes = [run_once(nodes, servers, args, egg, folder) for nodes in (1, 2)]

    print(
        f"{args.sites} sample sites of {args.articles} articles, {args.latency * 1000:.0f} ms "
        f"latency, download_delay {args.delay:g} s, 1 request at a time per site; "
        f"Scrapyd max_proc {args.max_proc} per node; {os.cpu_count()} CPUs"
    )
    print(f"{'nodes':<7}{'wall s':>9}{'articles':>10}{'requests':>10}{'exit':>6}  load before")
    for outcome in outcomes:
        print(
            f"{outcome.nodes:<7}{outcome.seconds:>9.1f}{sum(outcome.articles.values()):>10}"
            f"{sum(outcome.requests.values()):>10}{outcome.exit_code:>6}  "
            + " ".join(f"{value:.2f}" for value in outcome.load)
        )
    one, two = outcomes
    problems = losses(one, servers) + losses(two, servers)
    if one.articles != two.articles or one.requests != two.requests:
        problems.append("the two runs archived or requested different counts")
    for problem in problems:
        print(f"LOST: {problem}")
    print(f"one node / two nodes: x{one.seconds / two.seconds:.2f} faster with two")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
