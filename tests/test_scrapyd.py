"""Deploying to a real Scrapyd node: the egg scrapyd-client builds from the repository runs a crawl.

The node is a Scrapyd process on 127.0.0.1 with its own folder and scrapyd.conf; the archive URL
reaches it only through its environment, as on a real node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from coopspider.sample_site import SampleServer
from storage import Article, CrawlRun, open_database
from tests.conftest import FAST, ROOT
from tests.helpers import SCRAPYD_PROJECT as PROJECT
from tests.helpers import ScrapydNode, deploy_built_egg, scrapyd_deploy, scrapyd_node

pytest.importorskip("scrapyd")
pytest.importorskip("scrapyd_client")

JOB_TIMEOUT_S = 300
# The `-s` values of FAST (politeness off: the site is ours, on loopback) as job settings.
FAST_SETTINGS = FAST[1::2]


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[ScrapydNode]:
    """A Scrapyd node whose environment, and nothing else, names the archive `database_url`."""
    with scrapyd_node(tmp_path / "node", database_url) as node:
        yield node


def imported_from(egg: Path, cwd: Path) -> str:
    """Where a job process on the node (the egg at the end of sys.path, where Scrapyd's runner
    adds it) imports coopspider from."""
    code = (
        f"import sys; sys.path.append({str(egg)!r}); import coopspider; print(coopspider.__file__)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return found.stdout.strip() or found.stderr


def archived(database_url: str) -> tuple[int | None, list[str]]:
    """How many articles the archive holds, and the status of each crawl run it recorded."""
    database = open_database(database_url, read_only=True)
    try:
        with database.session() as session:
            articles = session.scalar(select(func.count()).select_from(Article))
            statuses = list(session.scalars(select(CrawlRun.status)).all())
    finally:
        database.close()
    return articles, statuses


def wait_for_job(node: ScrapydNode, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        jobs = node.get("listjobs.json", project=PROJECT)
        for finished in jobs["finished"]:
            if finished["id"] == job:
                return dict(finished)
        time.sleep(0.5)
    pytest.fail(f"job {job} not finished within {JOB_TIMEOUT_S} s: {jobs}\n{node.log()[-3000:]}")


@pytest.mark.slow
def test_egg_deployed_to_scrapyd_archives_the_sample_site(
    tmp_path: Path, node: ScrapydNode, sample_server: SampleServer, database_url: str
) -> None:
    egg_path = deploy_built_egg(node, tmp_path)
    where = imported_from(egg_path, node.home)
    assert where.startswith(str(egg_path)), (
        f"a job would not run the egg's code but {where}: coopspider is installed on this node "
        "in a way that shadows deployed eggs (install it editable, or only its dependencies)"
    )

    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", setting) for setting in FAST_SETTINGS]
    job = node.post("schedule.json", fields)["jobid"]
    finished = wait_for_job(node, job)

    log_file = node.home / "logs" / PROJECT / "lienminh" / f"{job}.log"
    log = log_file.read_text("utf-8", "replace") if log_file.exists() else ""
    assert "finish_reason': 'finished'" in log, f"the job did not finish its crawl:\n{log[-4000:]}"
    assert "ERROR" not in log, log[-4000:]

    articles, statuses = archived(database_url)
    assert articles == len(sample_server.site.articles)
    assert statuses == ["finished"]

    jobs_list = json.dumps(node.get("listjobs.json", project=PROJECT))
    for place, text in (("job log", log), ("job list", jobs_list), ("job", json.dumps(finished))):
        assert database_url not in text, f"the archive URL appears in the {place}"


@pytest.mark.slow
def test_scrapyd_deploy_sends_the_egg_to_a_target(tmp_path: Path, node: ScrapydNode) -> None:
    # A deployer's own scrapy.cfg (read before the project's) adds a target for this node.
    user_config = tmp_path / "config"
    user_config.mkdir()
    user_config.joinpath("scrapy.cfg").write_text(
        f"[deploy:testnode]\nurl = {node.url}\n", encoding="utf-8"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(user_config)}
    output = scrapyd_deploy("testnode", "--version", "20261205", env=env)
    assert '"status": "ok"' in output, output

    versions = node.get("listversions.json", project=PROJECT)["versions"]
    assert versions == ["20261205"]
    # Listing the spiders runs the egg on the node: its settings entry point and its imports.
    spiders = node.get("listspiders.json", project=PROJECT)
    assert "lienminh" in spiders.get("spiders", []), spiders


@pytest.mark.slow
def test_scrapyd_job_refuses_an_archive_url_in_its_settings(
    tmp_path: Path, node: ScrapydNode, sample_server: SampleServer
) -> None:
    deploy_built_egg(node, tmp_path)
    elsewhere = tmp_path / "elsewhere.sqlite3"
    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", f"DATABASE_URL=sqlite:///{elsewhere}")]
    wait_for_job(node, node.post("schedule.json", fields)["jobid"])

    assert "not from a DATABASE_URL job setting" in node.log()
    assert not elsewhere.exists()
    assert not sample_server.requests.paths(), "the refused job crawled the site"


@pytest.fixture
def shipped_node(tmp_path: Path, database_url: str) -> Iterator[ScrapydNode]:
    """A node set up as README's "Several machines" says: the shipped node/scrapyd.conf (moved
    to 127.0.0.1 and a free port), its password in the environment as the systemd unit gives it."""
    conf = ROOT / "node" / "scrapyd.conf"
    with scrapyd_node(tmp_path / "node", database_url, conf=conf, password="node-secret") as node:
        yield node


def refusal(node: ScrapydNode, path: str, auth: tuple[str, str] | None = None) -> int:
    """The status with which the node refuses `path` to a stranger (or one with `auth`)."""
    request = urllib.request.Request(node.url + path, headers=replace(node, auth=auth).headers())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    return refused.value.code


@pytest.mark.slow
def test_node_as_shipped_refuses_strangers_and_runs_a_deployed_job_with_its_password(
    tmp_path: Path, shipped_node: ScrapydNode, sample_server: SampleServer, database_url: str
) -> None:
    assert shipped_node.auth is not None
    username, password = shipped_node.auth
    for path in ("", "daemonstatus.json", "listjobs.json?project=coopspider", "logs/"):
        assert refusal(shipped_node, path) == 401, path
    assert refusal(shipped_node, "daemonstatus.json", (username, "wrong")) == 401

    # The deployer's own scrapy.cfg, the password taken from its environment.
    user_config = tmp_path / "config"
    user_config.mkdir()
    user_config.joinpath("scrapy.cfg").write_text(
        f"[deploy:secured]\nurl = {shipped_node.url}\nusername = {username}\n"
        "password = ${SCRAPYD_PASSWORD}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(user_config), "SCRAPYD_PASSWORD": password}
    output = scrapyd_deploy("secured", "--version", "1", env=env)
    assert '"status": "ok"' in output, output

    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", setting) for setting in FAST_SETTINGS]
    with pytest.raises(urllib.error.HTTPError) as refused:
        replace(shipped_node, auth=None).post("schedule.json", fields)
    assert refused.value.code == 401
    job = shipped_node.post("schedule.json", fields)["jobid"]
    assert wait_for_job(shipped_node, job)["id"] == job

    articles, statuses = archived(database_url)
    assert statuses == ["finished"], shipped_node.log()[-3000:]
    assert articles == len(sample_server.site.articles)
    assert password not in shipped_node.log()
