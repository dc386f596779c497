"""Crawl speed and CPU of `scrapy crawl lienminh` against a bare link-following spider.

Serves a generated 2,000-article sample site on 127.0.0.1 with nginx when it is installed (a
static export of the site, so the server is not the bottleneck), else with the project's own
Python server (and says so). Crawls it with politeness off, in each round first with the bare
spider of bare_spider.py, then with the real spider storing into a fresh SQLite file (and its WARC
files into a fresh folder) in four crawl designs: `pool` (the default: extraction worker pool
and archive writer process, WARC files written), `pool-nowarc` (the same with WARC_ENABLED=0),
`inline-extract` (COOPSPIDER_EXTRACT_PROCESSES=0: extraction in the crawl's process; the settings
have no switch for the writer process, which stays) and `inline` (extraction and archive writes in
the crawl's process, through the bench-only bench/inline_store.py). Prints, as medians over the
rounds, pages per second and CPU per page (user + system CPU of the crawl process and all its
child processes, divided by pages; and of the crawl process alone, read from /proc), peak memory,
articles stored, WARC megabytes per 1,000 articles stored, and each design's ratios to the bare
spider of the same round (median of the per-round ratios); with both `pool` and `pool-nowarc`,
what writing WARC costs (`pool` against `pool-nowarc` of the same round).

    .venv/bin/python bench/bench_crawl.py [--articles 2000] [--rounds 3] [--designs pool,inline]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

from coopspider.settings import ITEM_PIPELINES  # noqa: E402

FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "LOG_LEVEL=INFO",
    "-s",
    "STATS_DUMP=1",
]
# Crawl designs of `lienminh`: name -> extra arguments. The settings switch the extraction pool
# off; writing in the crawl's process has no setting, so inline_store.py stands in for it.
_INLINE_PIPELINES = {
    **{
        path: order for path, order in ITEM_PIPELINES.items() if not path.endswith(".StorePipeline")
    },
    "inline_store.InlineStorePipeline": 300,
}
DESIGNS = {
    # extraction worker pool (one per spare core) and archive writer process: the default
    "pool": [],
    # the same without WARC files
    "pool-nowarc": ["-s", "WARC_ENABLED=0"],
    # extraction in the crawl's process, archive writer process
    "inline-extract": ["-s", "COOPSPIDER_EXTRACT_PROCESSES=0"],
    # extraction and archive writes in the crawl's process (writes on the reactor's thread)
    "inline": [
        "-s",
        "COOPSPIDER_EXTRACT_PROCESSES=0",
        "-s",
        f"ITEM_PIPELINES={json.dumps(_INLINE_PIPELINES)}",
    ],
}
# Targets of issue 17: the crawl against the bare spider.
SPEED_TARGET = 0.80  # pages per second, at least this fraction of the bare spider's
CPU_TARGET = 1.5  # CPU per page, at most this multiple of the bare spider's
MEMORY_TARGET_MB = 300
# Issue 19: writing WARC files slows the crawl by at most this fraction.
WARC_OVERHEAD_TARGET = 0.15

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    charset utf-8;
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {folder}/site;
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""
_LINK_RE = re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class Run:
    """One crawl: pages fetched, seconds by Scrapy's clock, CPU seconds (of the crawl with its
    child processes, and of the crawl process alone), peak resident MB, articles stored (counted
    by outcome in the crawl's stats: 0 for the bare spider), bytes of WARC files written."""

    pages: int
    seconds: float
    cpu: float
    own_cpu: float
    peak_mb: float
    stored: int
    warc_bytes: int = 0

    @property
    def warc_mb_per_1000(self) -> float:
        return self.warc_bytes / 1e6 * 1000 / self.stored if self.stored else 0.0

    @property
    def speed(self) -> float:
        return self.pages / self.seconds

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages

    @property
    def own_cpu_ms_per_page(self) -> float:
        return 1000 * self.own_cpu / self.pages


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (the archive writer included)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(match.group(1)) if match else 0
        pending.extend(int(child) for child in children)
    return total


def _own_cpu(pid: int) -> float | None:
    """User + system CPU seconds of one process, its children not included; None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(command: list[str]) -> Run:
    """Run one crawl to its end. Its CPU is what the ended process and the children it waited
    for (extraction workers, writer) used: the growth of this process's RUSAGE_CHILDREN, which
    the server, never waited for while it runs, does not enter."""
    cpu_before = _children_cpu()
    # bench/ on the path: the `inline` design loads its pipeline from inline_store.py.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)])}
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    peak_kb = 0
    own_cpu = 0.0  # the crawl process alone, as last read before it ended (up to 50 ms early)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_kb, own_cpu
        while not done.wait(0.05):
            peak_kb = max(peak_kb, _tree_rss_kb(process.pid))
            own_cpu = max(own_cpu, _own_cpu(process.pid) or 0.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stderr is not None
    log = process.stderr.read()
    process.wait()
    cpu = _children_cpu() - cpu_before
    done.set()
    sampler.join()
    pages = re.search(r"'downloader/response_count': (\d+)", log)
    seconds = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    if process.returncode != 0 or not pages or not seconds:
        sys.exit(f"crawl failed: {' '.join(command)}\n{log[-2000:]}")
    if "'coopspider/store/errors'" in log:
        sys.exit(f"crawl stored with errors: {' '.join(command)}")
    stored = sum(int(n) for n in re.findall(r"'coopspider/articles/\w+': (\d+)", log))
    return Run(int(pages.group(1)), float(seconds.group(1)), cpu, own_cpu, peak_kb / 1024, stored)


def export_site(articles: int, base_url: str, folder: Path) -> int:
    """Write every page reachable from the sample site's home page and robots.txt into `folder`
    as the Python server would answer them at `base_url` (a path ending in / as index.html);
    the number of files written. Exits if a page's URL has a query string: a static server
    cannot tell such pages apart (the default grammar has none)."""
    from coopspider.sample_site import build_site

    site = build_site(articles=articles)
    host = urlsplit(base_url).netloc
    pending, seen = ["/", "/robots.txt"], {"/", "/robots.txt"}
    written = 0
    while pending:
        path = pending.pop()
        status, _, body = site.render(path, base_url)
        if status != 200:
            continue
        target = folder / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        written += 1
        if not path.endswith((".html", ".htm", "/")):
            continue
        for href in _LINK_RE.findall(body.decode("utf-8", "replace")):
            parts = urlsplit(urljoin(base_url + path.lstrip("/"), html.unescape(href)))
            if parts.netloc != host or parts.path in seen:
                continue
            if parts.query:
                sys.exit(f"cannot export {parts.path}?{parts.query}: a query string")
            seen.add(parts.path)
            pending.append(parts.path)
    return written


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _drop_privileges() -> None:
    """Run nginx as nobody when the benchmark runs as root: no process of it stays root."""
    os.setgid(65534)
    os.setuid(65534)


@contextmanager
def nginx_site(nginx: str, articles: int) -> Iterator[str]:
    """nginx serving a static export of the sample site on a free loopback port, in the
    foreground as an unprivileged process, configured from a temporary folder; its base URL."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as name:
        folder = Path(name)
        files = export_site(articles, base_url, folder / "site")
        (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, port=port))
        as_root = os.geteuid() == 0
        if as_root:  # nobody must read the site and write the logs and temporary files
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, 65534, 65534)
        server = subprocess.Popen(
            [nginx, "-e", str(folder / "error.log"), "-p", str(folder), "-c", "nginx.conf"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_drop_privileges if as_root else None,
        )
        try:
            _wait_listening(port, server, folder / "error.log")
            print(f"nginx ({nginx}) serving a static export ({files} files) at {base_url}")
            yield base_url
        finally:
            server.terminate()
            server.wait()


def _wait_listening(port: int, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = log.read_text() if log.exists() else ""
            sys.exit(
                f"nginx did not start: {(server.stderr.read() if server.stderr else '')}{error}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    server.terminate()
    sys.exit(f"nginx did not listen on 127.0.0.1:{port} within 10 s")


@contextmanager
def python_site(articles: int) -> Iterator[str]:
    """The project's own sample-site server (`coopspider sample-site`) in its own process."""
    server = subprocess.Popen(
        [sys.executable, "-m", "coopspider.cli", "sample-site", "--port", "0"]
        + ["--articles", str(articles)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        print(f"Python sample-site server at {base_url}")
        yield base_url
    finally:
        server.terminate()
        server.wait()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="crawls of each kind; medians kept")
    parser.add_argument(
        "--designs",
        default=",".join(DESIGNS),
        help=f"crawl designs of lienminh to measure, comma-separated, of: {', '.join(DESIGNS)}",
    )
    parser.add_argument("--server", choices=["auto", "nginx", "python"], default="auto")
    parser.add_argument("--nginx", default="nginx", help="nginx's name or path (default: nginx)")
    args = parser.parse_args()
    designs = [name.strip() for name in args.designs.split(",") if name.strip()]
    if unknown := set(designs) - set(DESIGNS):
        sys.exit(f"unknown design(s) {', '.join(sorted(unknown))}; known: {', '.join(DESIGNS)}")

    # Debian installs nginx in /usr/sbin, which a user's PATH may leave out.
    nginx = shutil.which(args.nginx) or shutil.which(args.nginx, path="/usr/sbin:/usr/local/sbin")
    if args.server == "nginx" and not nginx:
        sys.exit(f"{args.nginx} not found (Debian: apt-get install nginx-light)")
    if nginx and args.server != "python":
        site = nginx_site(nginx, args.articles)
    else:
        if args.server == "auto":
            print(
                f"note: {args.nginx} not found (Debian: apt-get install nginx-light); serving with "
                "the Python sample-site server, which may limit the bare spider's speed"
            )
        site = python_site(args.articles)

    print(f"sample site of {args.articles} articles; {args.rounds} rounds; load: {_load()}")
    results: dict[str, list[Run]] = {name: [] for name in ["bare", *designs]}
    with site as base_url:
        for _ in range(args.rounds):
            bare = [sys.executable, "-m", "scrapy", "runspider", "bench/bare_spider.py"]
            bare += ["-a", f"base_url={base_url}", "-s", "ITEM_PIPELINES={}", *FAST]
            results["bare"].append(crawl(bare))
            for design in designs:
                with tempfile.TemporaryDirectory() as folder:
                    ours = [sys.executable, "-m", "scrapy", "crawl", "lienminh"]
                    ours += ["-a", f"base_url={base_url}"]
                    ours += ["-s", f"DATABASE_URL=sqlite:///{folder}/bench.sqlite3"]
                    ours += ["-s", f"WARC_DIR={folder}/warc"]
                    run = crawl([*ours, *FAST, *DESIGNS[design]])
                    warc = sum(f.stat().st_size for f in Path(folder, "warc").glob("*.warc.gz"))
                    results[design].append(replace(run, warc_bytes=warc))
    report(results, designs)
    if {"pool", "pool-nowarc"} <= set(designs):
        report_warc(results)
    print(f"load after: {_load()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) + " (1, 5, 15 min)"


def report(results: dict[str, list[Run]], designs: list[str]) -> None:
    """Medians of each spider, then each design's ratios to the bare spider of the same round."""
    print(
        f"{'spider':<15} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'CPU s':>7} "
        f"{'CPU ms/page':>12} {'own ms/page':>12} {'peak MB':>8} {'stored':>7} "
        f"{'WARC MB/1000':>12}"
    )
    for name, runs in results.items():
        print(
            f"{name:<15} {int(_median([r.pages for r in runs])):>6} "
            f"{_median([r.seconds for r in runs]):>8.1f} {_median([r.speed for r in runs]):>8.1f} "
            f"{_median([r.cpu for r in runs]):>7.1f} "
            f"{_median([r.cpu_ms_per_page for r in runs]):>12.2f} "
            f"{_median([r.own_cpu_ms_per_page for r in runs]):>12.2f} "
            f"{max(r.peak_mb for r in runs):>8.0f} {min(r.stored for r in runs):>7} "
            f"{_median([r.warc_mb_per_1000 for r in runs]):>12.2f}"
        )
    bare = results["bare"]
    for design in designs:
        runs = results[design]
        pairs = list(zip(runs, bare, strict=True))
        speed = _median([ours.speed / base.speed for ours, base in pairs])
        cpu = _median([ours.cpu_ms_per_page / base.cpu_ms_per_page for ours, base in pairs])
        # The bare spider has no child processes: its whole CPU is its own.
        own = _median([ours.own_cpu_ms_per_page / base.cpu_ms_per_page for ours, base in pairs])
        peak = max(run.peak_mb for run in runs)
        rounds = ", ".join(f"{ours.speed / base.speed:.2f}" for ours, base in pairs)
        print(
            f"{design}: pages/s {speed:.2f} of bare (target >= {SPEED_TARGET:.2f}: "
            f"{_met(speed >= SPEED_TARGET)}; rounds {rounds}); CPU/page {cpu:.2f} times bare "
            f"(target <= {CPU_TARGET}: {_met(cpu <= CPU_TARGET)}; the crawl process alone "
            f"{own:.2f} times); peak memory {peak:.0f} MB "
            f"(target < {MEMORY_TARGET_MB} MB: {_met(peak < MEMORY_TARGET_MB)})"
        )


def report_warc(results: dict[str, list[Run]]) -> None:
    """What writing WARC files costs: `pool` against `pool-nowarc` of the same round."""
    pairs = list(zip(results["pool"], results["pool-nowarc"], strict=True))
    cpu = _median([warc.cpu_ms_per_page / bare.cpu_ms_per_page for warc, bare in pairs]) - 1
    slower = 1 - _median([warc.speed / bare.speed for warc, bare in pairs])
    rounds = ", ".join(
        f"{warc.cpu_ms_per_page / bare.cpu_ms_per_page - 1:+.1%}" for warc, bare in pairs
    )
    disk = _median([run.warc_mb_per_1000 for run in results["pool"]])
    print(
        f"WARC: CPU/page {cpu:+.1%} (rounds {rounds}), pages/s {-slower:+.1%} against "
        f"pool-nowarc (target: at most {WARC_OVERHEAD_TARGET:.0%} slower: "
        f"{_met(max(cpu, slower) <= WARC_OVERHEAD_TARGET)}); {disk:.2f} MB of WARC per 1,000 "
        "articles"
    )


def _met(condition: bool) -> str:
    return "met" if condition else "NOT met"


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - started:.0f} s")
