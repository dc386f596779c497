"""The benchmarks say what they measure: the crawl benchmark's nginx site and figures, the
extraction benchmark's headings, the dates benchmark's parsers (bench/, run as the README says)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_crawl  # noqa: E402
import bench_scrapyd  # noqa: E402

from coopspider.sample_site import build_site, serve  # noqa: E402

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
# The header clock shows the minute a page is rendered; the export and the check may differ.
_CLOCK_RE = re.compile(rb"\d{2}/\d{2}/\d{4}, \d{2}:\d{2}")


def _bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_serves_every_page_as_the_sample_site_renders_it() -> None:
    site = build_site(articles=30)
    with bench_crawl.nginx_site(NGINX, 30) as base_url:
        paths = ["/", "/robots.txt", *site.listing_paths(), *site.article_paths()]
        paths += site.menu_page_paths()
        for path in paths:
            with urllib.request.urlopen(base_url + path.lstrip("/")) as response:
                body = response.read()
                content_type = response.headers["Content-Type"]
            status, want_type, want = site.render(path, base_url)
            assert status == 200
            assert content_type == want_type, path
            assert _CLOCK_RE.sub(b"", body) == _CLOCK_RE.sub(b"", want), path
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base_url + "khong-co-trang-nay.html")
        assert missing.value.code == 404


def _table(output: str) -> dict[str, list[str]]:
    header = next(i for i, line in enumerate(output.splitlines()) if line.startswith("spider"))
    rows = {}
    for line in output.splitlines()[header + 1 :]:
        if not line or ":" in line:
            break
        name, *cells = line.split()
        rows[name] = cells
    return rows


@pytest.mark.slow
@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_crawl_benchmark_with_nginx_prints_cpu_per_page_and_ratios_per_design() -> None:
    output = _bench("bench_crawl.py", "--articles", "30", "--rounds", "1")
    assert "nginx" in output and "static export" in output
    rows = _table(output)
    assert set(rows) == {"bare", "pool", "pool-nowarc", "inline-extract", "inline"}
    pages = {name: int(cells[0]) for name, cells in rows.items()}
    assert len(set(pages.values())) == 1 and pages["bare"] > 30  # the same pages, every crawl
    for name, cells in rows.items():
        assert float(cells[4]) > 0  # CPU ms per page
        assert float(cells[5]) > 0  # CPU ms per page of the crawl process alone
        assert int(cells[7]) == (0 if name == "bare" else 30)  # articles stored
        # WARC megabytes per 1,000 articles: every design writes them but the one switched off
        assert (float(cells[8]) > 0) == (name not in ("bare", "pool-nowarc"))
    assert re.search(
        r"^WARC: CPU/page [+-][\d.]+% .* against pool-nowarc .* [\d.]+ MB of WARC per 1,000",
        output,
        re.M,
    )
    for design in ("pool", "pool-nowarc", "inline-extract", "inline"):
        assert re.search(
            rf"^{design}: pages/s [\d.]+ of bare .* CPU/page [\d.]+ times bare", output, re.M
        )


@pytest.mark.slow
def test_crawl_benchmark_without_nginx_says_so_and_uses_the_python_server() -> None:
    output = _bench(
        *["bench_crawl.py", "--articles", "30", "--rounds", "1", "--designs", "inline"],
        *["--nginx", "/nonexistent/nginx"],
    )
    assert "note: /nonexistent/nginx not found" in output
    assert "Python sample-site server at http://127.0.0.1:" in output
    assert set(_table(output)) == {"bare", "inline"}


@pytest.mark.slow
def test_extraction_benchmark_heads_each_table_with_its_set_and_origin() -> None:
    pytest.importorskip("trafilatura")
    output = _bench("bench_extract.py", "--rounds", "1")
    headings = [line for line in output.splitlines() if " pages" in line and " - " in line]
    assert [heading.split(":")[0] for heading in headings] == [
        "tuned on - our own pages (written for this project)",
        "tuned on - real pages (saved from the web)",
        "score-only, never tuned to - our own pages (written for this project)",
        "score-only, never tuned to - real pages (saved from the web)",
    ]
    real_names = re.findall(r"real-[\w-]+", output)
    assert real_names and all("real pages" in h for h in headings if "real-" in h)
    assert not any("real-" in h for h in headings if "our own pages" in h)


@pytest.mark.slow
def test_dates_benchmark_compares_default_and_tuned_dateparser_with_a_baseline() -> None:
    output = _bench("bench_dates.py", "--rounds", "1")
    rows = {
        label: line
        for line in output.splitlines()
        for label in (
            "coopspider.dates.parse_date",
            "dateparser, default settings",
            "dateparser, our tuned settings",
        )
        if line.startswith(label)
    }
    assert len(rows) == 3
    assert rows["dateparser, default settings"].rstrip().endswith(" 1.0x")  # the baseline
    assert re.search(r"216/216 +100.0%", rows["coopspider.dates.parse_date"])
    assert "dateparser tuned settings: parse_date's fallback" in output


@pytest.mark.slow
def test_cli_benchmark_times_every_read_command_against_help() -> None:
    output = _bench("bench_cli.py", "--rounds", "1")
    rows = {
        line.split("  ")[0].strip(): re.findall(r"\d+ms|\d+\.\d\dx|not met|met", line)
        for line in output.splitlines()
        if re.search(r"\d+ms +\d+\.\d\dx +\d+ms +\d+\.\d\dx( +(met|not met))?$", line)
    }
    assert list(rows) == [
        "--help",
        "diff",
        "history",
        "search",
        "export",
        "report",
        "alert --dry-run",
        "sites",
        "config check",
    ]
    assert rows["--help"][1::2] == ["1.00x", "1.00x"]  # the baseline, no verdict
    for name, (_, ratio, _, _, verdict) in list(rows.items())[1:]:
        assert verdict == ("met" if float(ratio[:-1]) <= 2.5 else "not met"), name
    assert re.search(
        r"^target \(every read command <= 2\.5x --help\): (met|not met)$", output, re.M
    )


def test_scrapyd_benchmark_counts_a_site_lost_short_or_crawled_twice() -> None:
    with serve(build_site(articles=3, seed=1)) as one, serve(build_site(articles=4, seed=2)) as two:
        servers = {"one": one, "two": two}
        whole = bench_scrapyd.Outcome(
            nodes=2,
            seconds=1.0,
            exit_code=0,
            articles={"one": 3, "two": 4},
            runs={"one": ["finished"], "two": ["finished"]},
            requests={"one": 9, "two": 10},
            load=(0.0, 0.0, 0.0),
        )
        assert bench_scrapyd.losses(whole, servers) == []
        short = dataclasses.replace(whole, articles={"one": 3, "two": 3})
        assert bench_scrapyd.losses(short, servers) == ["2 node(s): two has 3/4 articles"]
        twice = dataclasses.replace(
            whole, runs={"one": ["failed", "finished"], "two": ["finished"]}
        )
        assert bench_scrapyd.losses(twice, servers) == [
            "2 node(s): one crawl runs ['failed', 'finished']"
        ]
        missing = dataclasses.replace(
            whole, exit_code=4, articles={"one": 3}, runs={"one": ["finished"]}
        )
        assert bench_scrapyd.losses(missing, servers) == [
            "2 node(s): run exited 4",
            "2 node(s): two has 0/4 articles",
            "2 node(s): two crawl runs []",
        ]
