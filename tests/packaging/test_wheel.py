"""The wheel is a real package: built from the tree, installed in a fresh venv outside it,
``webinar serve`` serves the seed webinar and every page from a folder with no checkout.

The venv gets the dependencies by a ``.pth`` line naming the site-packages this test runs
with (the same effect as ``--system-site-packages``, and it works when this test itself runs
in a venv): a ``.pth`` line only adds a folder, it runs no editable-install hook there, and
the test proves that ``webinar`` comes from the venv and no path of the checkout is seen.
Set ``WEBINAR_WHEEL_CLEAN_VENV=1`` to install the dependencies from the package registry
into a venv that sees nothing else instead (slower; needs the registry).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import Person, free_port, read_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DATA_DIRS = ("templates", "static", "agendas")
#: Not part of a source tree: caches, local databases, build output, venvs.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-results",
    "*.db",
    "*.db-*",
    "*.lock",
    "node_modules",
)


@dataclass
class Installed:
    wheel: Path
    venv: Path
    run_dir: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that points Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1", **extra}


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    dist = work / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source, cwd=work)
    (wheel,) = dist.glob("webinar-*.whl")
    shutil.rmtree(source)  # nothing of the tree is left to be found by accident

    venv = work / "venv"
    clean = os.environ.get("WEBINAR_WHEEL_CLEAN_VENV") == "1"
    run(sys.executable, "-m", "venv", *([] if clean else ["--without-pip"]), venv, cwd=work)
    python = venv / "bin" / "python"
    if clean:
        run(python, "-m", "pip", "install", "-q", wheel, cwd=work)
    else:
        where = "import sysconfig; print(sysconfig.get_path('purelib'))"
        purelib = run(python, "-c", where, cwd=work)
        outer = [p for p in site.getsitepackages() if not Path(p).is_relative_to(ROOT)]
        (Path(purelib.strip()) / "_dependencies.pth").write_text("\n".join(outer) + "\n")
        pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python]
        run(*pip, "install", "-q", "--no-deps", "--no-index", wheel, cwd=work)
    run_dir = work / "run"
    run_dir.mkdir()
    return Installed(wheel=wheel, venv=venv, run_dir=run_dir)


def test_wheel_holds_every_template_static_file_and_agenda(installed: Installed) -> None:
    in_tree = {
        f"webinar/{path.relative_to(ROOT)}": path.read_bytes()
        for folder in DATA_DIRS
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
    }

    with zipfile.ZipFile(installed.wheel) as wheel:
        packaged = {name: wheel.read(name) for name in wheel.namelist() if name in in_tree}

    assert len(in_tree) > 50
    assert sorted(packaged) == sorted(in_tree)
    assert packaged == in_tree


def test_installed_copy_is_used_and_no_checkout_is_on_the_path(installed: Installed) -> None:
    probe = (
        "import json, sys, webinar, webinar.services.agenda_files as files; "
        "print(json.dumps({'file': webinar.__file__, 'path': sys.path, "
        "'seed': str(files.SEED_AGENDA), 'version': webinar.__version__}))"
    )

    seen = json.loads(run(installed.bin / "python", "-c", probe, cwd=installed.run_dir))

    assert Path(seen["file"]).is_relative_to(installed.venv)
    assert Path(seen["seed"]).is_relative_to(installed.venv)
    assert [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(ROOT)] == []
    version = run(installed.bin / "webinar", "--version", cwd=installed.run_dir)
    assert version.strip() == f"webinar, version {seen['version']}"


@pytest.fixture
def served(installed: Installed) -> Iterator[dict[str, str]]:
    """``webinar serve`` from the installed venv in an empty folder; its printed links."""
    port = free_port()
    proc = subprocess.Popen(
        [str(installed.bin / "webinar"), "serve", "--port", str(port)],
        cwd=installed.run_dir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(proc, "Uvicorn running on", timeout=120)
        links = dict(re.findall(r"^\s+(attendees|host|organiser):\s+(\S+)", output, re.M))
        code = re.search(r"event code (\S+)\)", output)
        assert code is not None, output
        links["code"] = code[1]
        links["base"] = f"http://127.0.0.1:{port}"
        yield links
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert (installed.run_dir / "webinar.db").is_file()


async def test_installed_wheel_serves_every_page(served: dict[str, str]) -> None:
    base = served["base"]
    visitor, attendee, host, organiser = (Person(base) for _ in range(4))
    try:
        join = await visitor.http.get(served["attendees"])
        await attendee.join(served["code"], "Ann", "Trust")
        entered_host = await host.http.get(served["host"])
        entered_organiser = await organiser.http.get(served["organiser"])
        pages = {
            "join": join,
            "live": await attendee.http.get("/live"),
            "survey": await attendee.http.get("/survey"),
            "host": await host.http.get("/host"),
            "projector": await host.http.get("/projector"),
            "feedback": await host.http.get("/feedback"),
            "organiser": await organiser.http.get("/organiser"),
            "results": await organiser.http.get("/results"),
            "report": await organiser.http.get("/report"),
        }
        report_md = await organiser.http.get("/report.md")
        statics = {
            name: await visitor.http.get(f"/static/{name}")
            for name in ("app.css", "live.js", "vendor/htmx-2.0.11.min.js")
        }
        # The live socket's HTML fragments come from templates/live/ too.
        socket = await attendee.connect("html")
        await socket.send(json.dumps({"type": "resume", "last_seq": None}))
        snapshot = str(await asyncio.wait_for(socket.recv(), 30))
        await socket.close()
    finally:
        for person in (visitor, attendee, host, organiser):
            await person.close()

    assert (entered_host.status_code, entered_organiser.status_code) == (303, 303)
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    for name, response in pages.items():
        assert "Child Safeguarding Practice Review Panel Webinar" in response.text, name
        assert '<script src="/static/vendor/htmx-2.0.11.min.js"' in response.text, name
    assert report_md.status_code == 200
    assert report_md.text.startswith("# ")
    for name, response in statics.items():
        assert response.status_code == 200, name
        digest = hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()
        assert hashlib.sha256(response.content).hexdigest() == digest, name
    assert 'id="live-seq"' in snapshot
    assert 'id="qa-list"' in snapshot
