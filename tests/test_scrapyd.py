"""Deploying to a real Scrapyd node: the egg scrapyd-client builds from the repository runs a crawl.

The node is a Scrapyd process on 127.0.0.1 with its own folder and scrapyd.conf; the archive URL
reaches it only through its environment, as on a real node.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from coopspider.sample_site import SampleServer
from storage import Article, CrawlRun, open_database
from tests.conftest import FAST, ROOT
from tests.helpers import free_port

pytest.importorskip("scrapyd")
pytest.importorskip("scrapyd_client")

PROJECT = "coopspider"
START_TIMEOUT_S = 60
JOB_TIMEOUT_S = 300
# The `-s` values of FAST (politeness off: the site is ours, on loopback) as job settings.
FAST_SETTINGS = FAST[1::2]


@dataclass
class ScrapydNode:
    """A Scrapyd process on 127.0.0.1 and the folder that holds its eggs, logs and job lists."""

    url: str
    home: Path
    process: subprocess.Popen[bytes]
    auth: tuple[str, str] | None = None  # Scrapyd's username and password, when it asks

    def headers(self) -> dict[str, str]:
        if self.auth is None:
            return {}
        token = base64.b64encode(":".join(self.auth).encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, endpoint: str, **query: str) -> dict[str, Any]:
        address = f"{self.url}{endpoint}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(address, headers=self.headers())
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.load(response))

    def post(self, endpoint: str, fields: list[tuple[str, str]], egg: bytes | None = None) -> Any:
        if egg is None:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = multipart(fields, egg)
        request = urllib.request.Request(
            self.url + endpoint, data=body, headers={"Content-Type": content_type, **self.headers()}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert answer.get("status") == "ok", f"{endpoint} refused: {answer}"
        return answer

    def log(self) -> str:
        return self.home.joinpath("process.log").read_text("utf-8", "replace")


def multipart(fields: list[tuple[str, str]], egg: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and the egg as the `egg` file (addversion.json)."""
    boundary = "coopspider-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="{PROJECT}.egg"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        + egg
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_until_answering(node: ScrapydNode) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"Scrapyd exited with {node.process.returncode}:\n{node.log()[-3000:]}")
        try:
            if node.get("daemonstatus.json").get("status") == "ok":
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Scrapyd did not answer within {START_TIMEOUT_S} s:\n{node.log()[-3000:]}")


@pytest.fixture
def scrapyd_node(tmp_path: Path, database_url: str) -> Iterator[ScrapydNode]:
    """A Scrapyd node whose environment, and nothing else, names the archive `database_url`."""
    port = free_port()
    conf = (
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "max_proc = 1\npoll_interval = 0.5\n"
    )
    with started_scrapyd(tmp_path / "node", port, conf, database_url) as node:
        yield node


@contextlib.contextmanager
def started_scrapyd(
    home: Path,
    port: int,
    conf: str,
    database_url: str,
    auth: tuple[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[ScrapydNode]:
    """Scrapyd started in `home` with `conf` as its scrapyd.conf and the archive in its
    environment (and `env`); stopped, with its jobs, on leaving."""
    home.mkdir()
    home.joinpath("scrapyd.conf").write_text(conf, encoding="utf-8")
    env = {
        **os.environ,
        "COOPSPIDER_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    scrapyd = Path(sys.executable).with_name("scrapyd")
    with home.joinpath("process.log").open("wb") as output:
        # Its own process group: the teardown stops a job still running with it.
        process = subprocess.Popen(
            [str(scrapyd)],
            cwd=home,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    node = ScrapydNode(f"http://127.0.0.1:{port}/", home, process, auth)
    try:
        wait_until_answering(node)
        yield node
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the process and what it started; a group already gone (Scrapyd exited) is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def scrapyd_deploy(*arguments: str, env: dict[str, str] | None = None) -> str:
    """Run scrapyd-client's `scrapyd-deploy` from the repository root, as a deployer would."""
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    done = subprocess.run(
        [str(deploy), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"scrapyd-deploy {' '.join(arguments)} failed:\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def deploy_built_egg(node: ScrapydNode, folder: Path) -> Path:
    """Build the egg with `scrapyd-deploy --build-egg` into `folder` and add it to the node."""
    egg = folder / f"{PROJECT}.egg"
    scrapyd_deploy("--build-egg", str(egg))
    node.post("addversion.json", [("project", PROJECT), ("version", "1")], egg=egg.read_bytes())
    return egg


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
    tmp_path: Path, scrapyd_node: ScrapydNode, sample_server: SampleServer, database_url: str
) -> None:
    egg_path = deploy_built_egg(scrapyd_node, tmp_path)
    where = imported_from(egg_path, scrapyd_node.home)
    assert where.startswith(str(egg_path)), (
        f"a job would not run the egg's code but {where}: coopspider is installed on this node "
        "in a way that shadows deployed eggs (install it editable, or only its dependencies)"
    )

    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", setting) for setting in FAST_SETTINGS]
    job = scrapyd_node.post("schedule.json", fields)["jobid"]
    finished = wait_for_job(scrapyd_node, job)

    log_file = scrapyd_node.home / "logs" / PROJECT / "lienminh" / f"{job}.log"
    log = log_file.read_text("utf-8", "replace") if log_file.exists() else ""
    assert "finish_reason': 'finished'" in log, f"the job did not finish its crawl:\n{log[-4000:]}"
    assert "ERROR" not in log, log[-4000:]

    articles, statuses = archived(database_url)
    assert articles == len(sample_server.site.articles)
    assert statuses == ["finished"]

    jobs_list = json.dumps(scrapyd_node.get("listjobs.json", project=PROJECT))
    for place, text in (("job log", log), ("job list", jobs_list), ("job", json.dumps(finished))):
        assert database_url not in text, f"the archive URL appears in the {place}"


@pytest.mark.slow
def test_scrapyd_deploy_sends_the_egg_to_a_target(
    tmp_path: Path, scrapyd_node: ScrapydNode
) -> None:
    # A deployer's own scrapy.cfg (read before the project's) adds a target for this node.
    user_config = tmp_path / "config"
    user_config.mkdir()
    user_config.joinpath("scrapy.cfg").write_text(
        f"[deploy:testnode]\nurl = {scrapyd_node.url}\n", encoding="utf-8"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(user_config)}
    output = scrapyd_deploy("testnode", "--version", "20261205", env=env)
    assert '"status": "ok"' in output, output

    versions = scrapyd_node.get("listversions.json", project=PROJECT)["versions"]
    assert versions == ["20261205"]
    # Listing the spiders runs the egg on the node: its settings entry point and its imports.
    spiders = scrapyd_node.get("listspiders.json", project=PROJECT)
    assert "lienminh" in spiders.get("spiders", []), spiders


@pytest.mark.slow
def test_scrapyd_job_refuses_an_archive_url_in_its_settings(
    tmp_path: Path, scrapyd_node: ScrapydNode, sample_server: SampleServer
) -> None:
    deploy_built_egg(scrapyd_node, tmp_path)
    elsewhere = tmp_path / "elsewhere.sqlite3"
    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", f"DATABASE_URL=sqlite:///{elsewhere}")]
    wait_for_job(scrapyd_node, scrapyd_node.post("schedule.json", fields)["jobid"])

    assert "not from a DATABASE_URL job setting" in scrapyd_node.log()
    assert not elsewhere.exists()
    assert not sample_server.requests.paths(), "the refused job crawled the site"


NODE_CONF = ROOT / "node" / "scrapyd.conf"


@pytest.fixture
def secured_node(tmp_path: Path, database_url: str) -> Iterator[ScrapydNode]:
    """A node set up as README's "Several machines" says: the shipped scrapyd.conf (moved to
    127.0.0.1 and a free port), its password in the environment as the systemd unit gives it."""
    conf = configparser.ConfigParser()
    conf.read(NODE_CONF, encoding="utf-8")
    port = free_port()
    conf["scrapyd"].update(bind_address="127.0.0.1", http_port=str(port), poll_interval="0.5")
    text = io.StringIO()
    conf.write(text)
    username, password = conf["scrapyd"]["username"], "node-secret"
    env = {"SCRAPYD_PASSWORD": password}
    with started_scrapyd(
        tmp_path / "node", port, text.getvalue(), database_url, (username, password), env
    ) as node:
        yield node


def refusal(node: ScrapydNode, path: str, auth: tuple[str, str] | None = None) -> int:
    """The status with which the node refuses `path` to a stranger (or one with `auth`)."""
    request = urllib.request.Request(node.url + path, headers=replace(node, auth=auth).headers())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    return refused.value.code


@pytest.mark.slow
def test_node_as_shipped_refuses_strangers_and_runs_a_deployed_job_with_its_password(
    tmp_path: Path, secured_node: ScrapydNode, sample_server: SampleServer, database_url: str
) -> None:
    assert secured_node.auth is not None
    username, password = secured_node.auth
    for path in ("", "daemonstatus.json", "listjobs.json?project=coopspider", "logs/"):
        assert refusal(secured_node, path) == 401, path
    assert refusal(secured_node, "daemonstatus.json", (username, "wrong")) == 401

    # The deployer's own scrapy.cfg, the password taken from its environment.
    user_config = tmp_path / "config"
    user_config.mkdir()
    user_config.joinpath("scrapy.cfg").write_text(
        f"[deploy:secured]\nurl = {secured_node.url}\nusername = {username}\n"
        "password = ${SCRAPYD_PASSWORD}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(user_config), "SCRAPYD_PASSWORD": password}
    output = scrapyd_deploy("secured", "--version", "1", env=env)
    assert '"status": "ok"' in output, output

    fields = [("project", PROJECT), ("spider", "lienminh"), ("base_url", sample_server.base_url)]
    fields += [("setting", setting) for setting in FAST_SETTINGS]
    stranger = replace(secured_node, auth=None)
    with pytest.raises(urllib.error.HTTPError) as refused:
        stranger.post("schedule.json", fields)
    assert refused.value.code == 401
    job = secured_node.post("schedule.json", fields)["jobid"]
    finished = wait_for_job(secured_node, job)
    assert finished["id"] == job

    articles, statuses = archived(database_url)
    assert statuses == ["finished"], secured_node.log()[-3000:]
    assert articles == len(sample_server.site.articles)
    assert password not in secured_node.log()
