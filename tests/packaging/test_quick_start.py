"""The README's first command, `./scripts/serve`, on a fresh copy of the tree.

It runs with Debian's own python3 where the machine has one (which refuses installs outside
a venv, PEP 668), found as ``python3`` first on PATH, with nothing activated: the script
makes ``.venv`` itself, installs into it and serves a rehearsal of the seed webinar that
starts now.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from helpers import ROOT, free_port, read_until

pytestmark = pytest.mark.integration

DEBIAN_PYTHON = Path("/usr/bin/python3")
#: Not part of a source tree: caches, local databases, build output, venvs.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".venv-*",  # CI's venv per Python version (.ci/run)
    ".coverage*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-results",
    "*.db",
    "*.db-*",
    "*.db.lock",
)


def git(checkout: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def system_python() -> Path:
    """Debian's python3 when it is 3.11 or newer, else the one running the tests."""
    if DEBIAN_PYTHON.exists():
        version = subprocess.run(
            [DEBIAN_PYTHON, "-c", "import sys; print(sys.version_info >= (3, 11))"],
            capture_output=True,
            text=True,
            check=True,
        )
        if version.stdout.strip() == "True":
            return DEBIAN_PYTHON
    return Path(sys.executable)


def version_of(python: Path) -> str:
    done = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def externally_managed(python: Path) -> bool:
    where = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return (Path(where.stdout.strip()) / "EXTERNALLY-MANAGED").exists()


def test_scripts_serve_installs_into_a_venv_and_serves_a_rehearsal_now(tmp_path: Path) -> None:
    checkout = tmp_path / "webinar"
    shutil.copytree(ROOT, checkout, symlinks=True, ignore=NOT_SOURCE)
    git(checkout, "init", "-q")
    git(checkout, "add", "-A")
    python = system_python()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python)
    port = free_port()
    # Nothing activated and nothing pointing at this checkout or the tests' Python.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV")) and k != "VENV"
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        WEBINAR_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    before = datetime.now(UTC)

    proc = subprocess.Popen(
        ["./scripts/serve"],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = read_until(proc, "Uvicorn running on", timeout=540)
        join = httpx.get(f"http://127.0.0.1:{port}/join", timeout=30)
        attendee = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        code = printed.split("(event code ", 1)[1].split(")", 1)[0]
        joined = attendee.post("/api/join", json={"code": code, "name": "Ann"})
        agenda = attendee.get("/api/agenda").json()
        attendee.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    assert f"  attendees: http://127.0.0.1:{port}/join?code={code}" in printed
    assert "Only this computer can open these links. To let others join, add" in printed
    assert "For a rehearsal" not in printed  # it is one: the agenda starts now
    assert (checkout / ".venv" / "bin" / "webinar").is_file()
    # What serving leaves in the working tree (venv, database, its lock) is ignored.
    assert (checkout / "webinar.db.lock").is_file()
    untracked = git(checkout, "status", "--porcelain", "--untracked-files=all")
    assert [line for line in untracked.splitlines() if line.startswith("??")] == []
    assert (checkout / "webinar.db").is_file()
    assert join.status_code == 200
    assert "Child Safeguarding Practice Review Panel Webinar" in join.text
    assert joined.status_code == 201
    start = datetime.fromisoformat(agenda["event"]["items"][0]["start"])
    assert before - timedelta(minutes=1) <= start <= datetime.now(UTC)
    venv = (checkout / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    # Made with the python3 first on PATH (Debian's), not with the tests' own Python.
    assert f"home = {bin_dir}\n" in venv
    assert f"version = {version_of(python)}\n" in venv
    if python == DEBIAN_PYTHON:
        assert externally_managed(python)  # the case the quick start must survive
