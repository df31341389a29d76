"""Run context captured at start, inside a real temporary git repository."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shipyard as sy

pytestmark = pytest.mark.usefixtures("store_uri")

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SCRIPT = """\
import shipyard as sy
with sy.start_run() as run:
    sy.log_metric("acc", 0.5)
print(run.id)
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _train(folder: Path, *argv: str) -> sy.Run:
    done = subprocess.run(
        [sys.executable, "train.py", *argv],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return sy.get_run(done.stdout.strip())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text(SCRIPT)
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "remote", "add", "origin", "https://alice:s3cret@git.example.com/team/mnist.git")
    return repo


@needs_git
def test_a_clean_checkout_records_commit_branch_and_remote(repo: Path) -> None:
    run = _train(repo, "--lr", "0.1")
    tags = run.tags
    assert tags["shipyard.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["shipyard.git.branch"] == "main"
    assert tags["shipyard.git.dirty"] == "false"
    assert tags["shipyard.git.remote"] == "https://git.example.com/team/mnist.git"
    assert tags["shipyard.source.entry_point"] == "train.py"
    assert tags["shipyard.source.command"].endswith("train.py --lr 0.1")
    assert "code/uncommitted.diff" not in {entry.path for entry in run.artifacts}


@needs_git
def test_a_dirty_checkout_stores_the_uncommitted_diff(repo: Path) -> None:
    (repo / "train.py").write_text(SCRIPT + "# tuned the learning rate\n")
    run = _train(repo)
    assert run.tags["shipyard.git.dirty"] == "true"
    diff = run.read_text("code/uncommitted.diff")
    assert "+# tuned the learning rate" in diff
    assert "train.py" in diff


def test_outside_a_repository_there_are_no_git_tags(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "train.py").write_text(SCRIPT)
    run = _train(folder)
    assert not any(key.startswith("shipyard.git.") for key in run.tags)
    assert run.tags["shipyard.source.entry_point"].endswith("train.py")


def test_environment_and_machine_are_recorded() -> None:
    with sy.start_run() as active:
        pass
    run = sy.get_run(active.id)
    tags = run.tags
    assert tags["shipyard.python.version"] == platform.python_version()
    assert tags["shipyard.host"] == platform.node()
    assert int(tags["shipyard.cpu_count"]) == os.cpu_count()
    assert int(tags["shipyard.memory_bytes"]) > 0
    assert run.user and tags["shipyard.user"] == run.user
    requirements = run.read_text("environment/requirements.txt").splitlines()
    names = {line.split("==")[0].lower().replace("_", "-") for line in requirements}
    assert {"pytest", "click", "sqlalchemy"} <= names
    assert all("==" in line for line in requirements)
    system = json.loads(run.read_text("environment/system.json"))
    assert system["python"]["version"] == platform.python_version()
    assert system["cpu_count"] == os.cpu_count()
    assert isinstance(system["gpus"], list)


def test_capture_can_be_turned_off() -> None:
    with sy.start_run(capture=False) as active:
        pass
    run = sy.get_run(active.id)
    assert not any(key.startswith("shipyard.") for key in run.tags)
    assert run.artifacts == []
