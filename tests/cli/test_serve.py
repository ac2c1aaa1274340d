"""`webinar --version`, and what `webinar serve` says and checks before it serves."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from helpers import PATIENCE, ROOT, ServerProcess, free_port, read_until
from webinar import __version__
from webinar.cli.main import cli
from webinar.cli.serving import joining_hint, timing_hint
from webinar.services.agenda_files import SEED_AGENDA, load_agenda


def test_version_is_the_package_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.output == f"webinar, version {__version__}\n"


@contextmanager
def listening(port: int) -> Iterator[socket.socket]:
    """Another program listening on 127.0.0.1:port."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        yield other


def test_serve_refuses_a_busy_port_before_printing_links(tmp_path: Path) -> None:
    port = free_port()

    with listening(port):
        result = CliRunner().invoke(
            cli, ["serve", "--db", str(tmp_path / "x.db"), "--port", str(port)]
        )

    assert result.exit_code == 1
    suggested = re.search(r"--port (\d+)\.$", result.output.strip())
    assert suggested is not None and int(suggested[1]) > port
    assert result.output.strip() == (
        f"Error: Port {port} on 127.0.0.1 is already in use: another program (perhaps another "
        f"webinar server) is listening there. Stop it, or choose another port with "
        f"--port {suggested[1]}."
    )
    assert not (tmp_path / "x.db").exists()


def test_serve_refuses_a_host_that_is_not_this_computer(tmp_path: Path) -> None:
    # 192.0.2.0/24 is reserved for documentation: never an address of this machine.
    result = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "x.db"), "--host", "192.0.2.7"]
    )

    assert result.exit_code == 1
    assert result.output.startswith("Error: --host 192.0.2.7 is not an address of this computer")
    assert "attendees:" not in result.output
    assert not (tmp_path / "x.db").exists()


def test_joining_hint_on_loopback_says_how_to_let_others_join() -> None:
    lines = joining_hint("127.0.0.1", 8000, None)

    assert lines == [
        "  Only this computer can open these links. To let others join, add",
        "  --host 0.0.0.0 --public-url http://ADDRESS:8000  (ADDRESS is this computer's name "
        "or IP address on your network; to reach people over the internet, see "
        "docs/deployment.md (reverse proxy, TLS)).",
    ]
    assert joining_hint("localhost", 8000, None) == lines
    assert joining_hint("::1", 8000, None) == lines


def test_joining_hint_on_every_interface_asks_for_the_public_url() -> None:
    assert joining_hint("0.0.0.0", 8080, None) == [
        "  No one can open links that name 0.0.0.0: add --public-url http://ADDRESS:8080",
        "  (ADDRESS is this computer's name or IP address on your network) so the links "
        "printed are the ones people use.",
    ]


def test_joining_hint_is_silent_when_the_links_are_public() -> None:
    assert joining_hint("127.0.0.1", 8000, "https://webinar.example.org") == []
    assert joining_hint("0.0.0.0", 8000, "http://hall.local:8000") == []
    assert joining_hint("192.168.1.20", 8000, None) == []


def test_timing_hint_after_the_planned_start_says_how_to_rehearse() -> None:
    agenda = load_agenda(SEED_AGENDA, today=datetime(2026, 3, 4).date())
    late = datetime(2026, 3, 4, 15, 43, tzinfo=UTC)  # London is on UTC in March

    assert timing_hint(agenda, late, rehearsal=False) == [
        "  The agenda was planned to start at 10:00 today. For a rehearsal that starts now, "
        "add --start now."
    ]
    next_day = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    assert timing_hint(agenda, next_day, rehearsal=False) == [
        "  The agenda was planned to start at 10:00 04 March 2026. For a rehearsal that starts "
        "now, add --start now."
    ]


def test_timing_hint_is_silent_before_the_start_and_for_a_rehearsal() -> None:
    agenda = load_agenda(SEED_AGENDA, today=datetime(2026, 3, 4).date())

    assert timing_hint(agenda, datetime(2026, 3, 4, 9, 59, tzinfo=UTC), rehearsal=False) == []
    assert timing_hint(agenda, datetime(2026, 3, 4, 15, 0, tzinfo=UTC), rehearsal=True) == []


def banner(tmp_path: Path, *args: str) -> str:
    """What a real `webinar serve` prints up to the moment it listens; then it is stopped."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "webinar", "serve", *args, "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        return read_until(proc, "Uvicorn running on", timeout=120)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.integration
def test_serve_prints_how_to_join_and_rehearse(tmp_path: Path) -> None:
    past = tmp_path / "past.toml"
    text = SEED_AGENDA.read_text(encoding="utf-8")
    past.write_text(text.replace('date = "today"', 'date = "2020-08-20"'), encoding="utf-8")

    printed = banner(tmp_path, str(past))
    rehearsal = banner(tmp_path, str(past), "--start", "now", "--db", "rehearsal.db")

    assert "Uvicorn running on" in printed
    assert "  Only this computer can open these links. To let others join, add\n" in printed
    assert (
        "  The agenda was planned to start at 10:00 20 August 2020. For a rehearsal that "
        "starts now, add --start now.\n"
    ) in printed
    assert "Uvicorn running on" in rehearsal
    assert "Only this computer can open these links" in rehearsal
    assert "For a rehearsal" not in rehearsal


def test_serve_refuses_a_redis_address_that_is_not_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "x.db"), "--redis", "localhost:6379"]
    )

    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: --redis localhost:6379 is not a Redis address: give one like "
        "redis://127.0.0.1:6379/0."
    )
    assert not (tmp_path / "x.db").exists()


def test_serve_refuses_a_redis_that_does_not_answer(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--redis", url])

    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Redis at {url} does not answer (")
    assert result.output.strip().endswith("start it (redis-server), or correct --redis.")
    assert "attendees:" not in result.output
    assert not (tmp_path / "x.db").exists()


def test_serve_refuses_a_metrics_network_that_is_not_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "x.db"), "--metrics-allow", "intranet"]
    )

    assert result.exit_code == 2
    assert (
        "Invalid value for '--metrics-allow': 'intranet' is not an address or a network: "
        "give one such as 10.0.0.0/8, 192.168.1.20 or fd00::/8."
    ) in result.output
    assert not (tmp_path / "x.db").exists()


def test_serve_lets_an_allowed_network_read_metrics_and_says_when_ready(tmp_path: Path) -> None:
    server = ServerProcess(str(tmp_path / "x.db"), args=("--metrics-allow", "203.0.113.0/24"))
    server.start()
    try:
        # Through a proxy on this computer: the visitor's address in X-Forwarded-For.
        inside = httpx.get(
            f"{server.base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=PATIENCE
        )
        outside = httpx.get(
            f"{server.base}/metrics", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=PATIENCE
        )
        ready = httpx.get(f"{server.base}/readyz", timeout=PATIENCE)
    finally:
        server.stop()

    assert inside.status_code == 200
    assert 'webinar_screens_connected{event="' in inside.text
    assert outside.status_code == 403
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
