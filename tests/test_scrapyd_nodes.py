"""The decisions of `run --scrapyd`, without servers: which node gets a site, what a job's end
means, what a job carries; and the [scrapyd] configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coopspider.config import ConfigError, SiteConfig, describe, load_config, node_urls
from coopspider.cycle import RunContext, crawl_arguments
from coopspider.exitcodes import EXIT_CRAWL_FAILED, EXIT_USAGE
from coopspider.profiles import ProfileError, load_profiles, with_site_table
from coopspider.scrapyd_nodes import (
    PROJECT,
    after_job,
    choose_node,
    job_fields,
    job_state,
    login_problem,
    node_load,
)
from storage import CrawlRun
from tests.conftest import FAST
from tests.helpers import clean_env, coopspider, write_config

A, B, C = "http://10.0.0.1:6800/", "http://10.0.0.2:6800/", "http://10.0.0.3:6800/"


def test_least_loaded_node_first_in_order_on_a_tie() -> None:
    assert choose_node({A: 2, B: 1, C: 1}) == B
    assert choose_node({A: 0, B: 0}) == A
    assert choose_node({A: 0, B: 3}, exclude={A}) == B
    assert choose_node({A: 0}, exclude={A}) is None
    assert choose_node({}) is None


def test_node_load_counts_running_and_pending_jobs() -> None:
    assert node_load({"status": "ok", "running": 2, "pending": 3, "finished": 40}) == 5
    assert node_load({"status": "ok"}) == 0


def test_sites_spread_over_nodes_by_load() -> None:
    # What the step does for each site: the least-loaded node takes it, its load grows by one.
    loads = {A: 1, B: 0}
    given = []
    for _site in range(5):
        node = choose_node(loads)
        assert node is not None
        loads[node] += 1
        given.append(node)
    assert given == [B, A, B, A, B]


def test_job_state_from_the_job_list() -> None:
    listing = {
        "pending": [{"id": "p"}],
        "running": [{"id": "r", "pid": 12}],
        "finished": [{"id": "f"}],
    }
    assert [job_state(listing, job) for job in ("p", "r", "f", "x")] == [
        "pending",
        "running",
        "finished",
        "lost",  # the node was restarted and forgot it
    ]
    assert job_state(None, "r") == "lost"  # the node does not answer


def run(status: str, reason: str | None) -> CrawlRun:
    return CrawlRun(site="a", status=status, finish_reason=reason)


@pytest.mark.parametrize(
    ("crawl_run", "retried", "other_node", "decision"),
    [
        (run("finished", "finished"), False, True, "judge"),
        # A crawl that read nothing is the site's failure, not the node's: no second job.
        (run("failed", "home_page_unread"), False, True, "judge"),
        (run("failed", "interrupted"), False, True, "judge"),
        (None, False, True, "retry"),  # no run at all: no egg, the job died before it began
        (run("failed", "abandoned"), False, True, "retry"),  # the node was killed
        (None, True, True, "judge"),  # once more only
        (None, False, False, "judge"),  # no other node to try
    ],
)
def test_what_to_do_when_a_job_ends(
    crawl_run: CrawlRun | None, retried: bool, other_node: bool, decision: str
) -> None:
    assert after_job(crawl_run, retried, other_node) == decision


def test_job_fields_carry_the_site_table_and_settings() -> None:
    table = {"base_url": "http://127.0.0.1:8000/", "profile": "caobang", "revisit_days": 3}
    fields = job_fields({"site": "dong"}, {"LOG_LEVEL": "INFO"}, table)
    assert fields[:3] == [("project", PROJECT), ("spider", "lienminh"), ("site", "dong")]
    assert json.loads(dict(fields)["site_table"]) == table
    assert ("setting", "LOG_LEVEL=INFO") in fields
    assert all(name != "site_table" for name, _ in job_fields({"site": "x"}, {}, None))


def test_the_site_table_as_an_argument_makes_the_site_profile() -> None:
    table = {"base_url": "http://127.0.0.1:8000/", "profile": "caobang", "revisit_days": 3}
    tables = with_site_table({}, "dong", json.dumps(table))
    profile = load_profiles(tables)["dong"]
    assert (profile.base_url, profile.revisit_days) == ("http://127.0.0.1:8000/", 3)
    assert with_site_table({"x": {}}, "dong", None) == {"x": {}}
    with pytest.raises(ProfileError, match="not a JSON object"):
        with_site_table({}, "dong", "[1]")
    with pytest.raises(ProfileError, match="needs the site argument"):
        with_site_table({}, None, "{}")


def test_crawl_arguments_keep_the_configured_base_url_out(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[sites.dong]\nbase_url = "http://127.0.0.1:8000/"\nrevisit_days = 2\n')
    config = load_config(file, env={})
    context = RunContext(config=config, database_url="sqlite://", sites=[], full=True)
    arguments, settings = crawl_arguments(context, config.sites["dong"])
    assert arguments == {"site": "dong", "revisit_days": "2", "full": "1"}
    assert settings["CLOSESPIDER_TIMEOUT"] == "10800"


def test_a_login_in_a_base_url_is_refused_for_scrapyd() -> None:
    assert login_problem([SiteConfig("a", base_url="http://127.0.0.1:1/")]) is None
    problem = login_problem([SiteConfig("b", base_url="http://me:secret@127.0.0.1:1/")])
    assert problem is not None and "secret" not in problem and "site b" in problem


def test_scrapyd_nodes_in_the_configuration(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[scrapyd]\nnodes = ["http://10.0.0.1:6800", "https://n2:6801/x/"]\n')
    env = {"COOPSPIDER_SCRAPYD_USERNAME": "crawl", "COOPSPIDER_SCRAPYD_PASSWORD": "s3cret"}
    config = load_config(file, env=env)
    assert config.scrapyd.nodes == ("http://10.0.0.1:6800/", "https://n2:6801/x/")
    assert (config.scrapyd.username, config.scrapyd.password) == ("crawl", "s3cret")
    lines = describe(config, ("sqlite://", "default"), (str(tmp_path / "lock"), "default"))
    shown = "\n".join(lines)
    assert f"scrapyd.nodes: http://10.0.0.1:6800/, https://n2:6801/x/  ({file}:2)" in lines
    assert "scrapyd.username: crawl  (COOPSPIDER_SCRAPYD_USERNAME)" in lines
    assert "scrapyd.password: ********  (COOPSPIDER_SCRAPYD_PASSWORD)" in lines
    assert "s3cret" not in shown


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('nodes = ["ftp://x:1"]', "'ftp://x:1' is not one"),
        ('nodes = ["http://u:p@x:1"]', "no login in a node address"),
        ("nodes = []", "expected a list of node addresses"),
        ('nodes = ["http://x:port"]', "expected a port number"),
        ('password = "p"', "unknown key; expected one of: nodes"),
    ],
)
def test_bad_scrapyd_configuration(tmp_path: Path, toml: str, problem: str) -> None:
    file = tmp_path / "c.toml"
    file.write_text(f"[scrapyd]\n{toml}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(file, env={})
    assert problem in str(raised.value)
    assert f"{file}:2: scrapyd." in str(raised.value)


def test_node_urls_from_the_command_line() -> None:
    assert node_urls("http://a:1, http://b:2/,http://a:1/") == ["http://a:1/", "http://b:2/"]
    with pytest.raises(ValueError, match="'b:2' is not one"):
        node_urls("http://a:1,b:2")


@pytest.mark.slow
def test_run_here_crawls_on_this_machine_although_nodes_are_configured(tmp_path: Path) -> None:
    # Port 9 (discard) is closed on loopback: the local crawl fails at once, which is enough to
    # tell it ran here, where the nodes of the file would have refused this SQLite archive.
    write_config(tmp_path, {"s1": "http://127.0.0.1:9/"})
    config = tmp_path / "coopspider.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[scrapyd]\nnodes = ["http://127.0.0.1:9"]\n',
        encoding="utf-8",
    )
    refused = coopspider("run", env=clean_env(), cwd=tmp_path)
    assert refused.returncode == EXIT_USAGE, refused.stderr
    assert "is a SQLite file on this machine" in refused.stderr
    # Politeness off and no retries: the refused connection fails the crawl within seconds.
    here = coopspider(
        "run", "--here", *FAST, "-s", "RETRY_ENABLED=0", env=clean_env(), cwd=tmp_path
    )
    assert here.returncode == EXIT_CRAWL_FAILED, here.stdout + here.stderr[-2000:]
    assert "Scrapyd" not in here.stdout + here.stderr
    both = coopspider("run", "--here", "--scrapyd", "http://127.0.0.1:9", cwd=tmp_path)
    assert both.returncode == EXIT_USAGE
    assert "not allowed with argument" in both.stderr
