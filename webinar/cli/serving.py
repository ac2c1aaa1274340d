"""What ``webinar serve`` checks and says before it serves: the port, who can join, timing."""

from __future__ import annotations

import errno
import ipaddress
import socket
from datetime import datetime

import click

from webinar.domain.agenda import Agenda

#: Addresses that listen on every network interface of the machine.
WILDCARDS = ("0.0.0.0", "::", "")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def metrics_networks(
    ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> tuple[Network, ...]:
    """``--metrics-allow`` values as networks (a click callback); ``click.BadParameter``
    with a sentence naming a value that is neither an address nor a CIDR network."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not an address or a network: give one such as 10.0.0.0/8, "
                "192.168.1.20 or fd00::/8.",
                ctx=ctx,
                param=param,
            ) from None
    return tuple(networks)


def _bind(host: str, port: int) -> None:
    """Bind and release (host, port) as uvicorn will; ``OSError`` when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn does: a port whose last connections are closing is still free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def check_port(host: str, port: int) -> None:
    """Refuse, in a plain sentence, an address and port this server could not listen on.

    Runs before any link is printed. ``click.ClickException`` when the port is taken, needs
    privileges, or ``host`` is not an address of this computer.
    """
    try:
        _bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"Port {port} on {host} is already in use: another program (perhaps another "
                f"webinar server) is listening there. Stop it, or choose another port with "
                f"--port {_free_port_near(host, port)}."
            ) from None
        if exc.errno == errno.EACCES:
            raise click.ClickException(
                f"Port {port} needs administrator rights on this computer: choose a port above "
                "1023, such as --port 8000, and put a reverse proxy in front for port 80 or "
                "443 (see docs/deployment.md)."
            ) from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise click.ClickException(
                f"--host {host} is not an address of this computer: give 127.0.0.1 for this "
                "computer only, 0.0.0.0 for every network it is on, or one of its own "
                "IP addresses."
            ) from None
        raise click.ClickException(
            f"Cannot listen on {host} port {port}: {exc.strerror or exc}."
        ) from None


def check_redis(url: str) -> None:
    """Refuse, in a plain sentence, a ``--redis`` address that is not one or does not
    answer. ``click.ClickException``; runs before any link is printed."""
    import redis
    from redis.exceptions import RedisError

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    except ValueError:
        raise click.ClickException(
            f"--redis {url} is not a Redis address: give one like redis://127.0.0.1:6379/0."
        ) from None
    try:
        client.ping()
    except RedisError as exc:
        raise click.ClickException(
            f"Redis at {url} does not answer ({exc}): start it (redis-server), or correct --redis."
        ) from None
    finally:
        client.close()


def check_workers(workers: int, redis_url: str | None, advertise: str) -> None:
    """Refuse, in a plain sentence, ``--workers N`` (N >= 2) without ``--redis`` or with an
    ``--advertise`` address this computer cannot listen on."""
    if redis_url is None:
        raise click.ClickException(
            f"--workers {workers} needs --redis URL (such as redis://127.0.0.1:6379/0): the "
            "workers find which of them writes for an event there. Start redis-server, or "
            "serve with one worker."
        )
    try:
        _bind(advertise, 0)
    except OSError:
        raise click.ClickException(
            f"--advertise {advertise} is not an address of this computer: give the address "
            "the other hosts reach this one at (127.0.0.1 when all workers run here)."
        ) from None


def _free_port_near(host: str, port: int) -> int:
    """The first free port after ``port`` (or ``port + 1`` if none of the next 20 is)."""
    for candidate in range(port + 1, min(port + 21, 65536)):
        try:
            _bind(host, candidate)
        except OSError:
            continue
        return candidate
    return port + 1


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def joining_hint(host: str, port: int, public_url: str | None) -> list[str]:
    """Lines telling how to let other people join, when the printed links will not let them.

    Empty when ``public_url`` names the address people use, or ``host`` is one of this
    computer's own network addresses (the links then name it).
    """
    if public_url:
        return []
    example = f"--host 0.0.0.0 --public-url http://ADDRESS:{port}"
    where = "ADDRESS is this computer's name or IP address on your network"
    internet = "to reach people over the internet, see docs/deployment.md (reverse proxy, TLS)"
    if _is_loopback(host):
        return [
            "  Only this computer can open these links. To let others join, add",
            f"  {example}  ({where}; {internet}).",
        ]
    if host in WILDCARDS:
        return [
            f"  No one can open links that name {host or 'every address'}: add "
            f"--public-url http://ADDRESS:{port}",
            f"  ({where}) so the links printed are the ones people use.",
        ]
    return []


def timing_hint(agenda: Agenda, now: datetime, rehearsal: bool) -> list[str]:
    """A line saying how to rehearse now, when the agenda's planned start has passed.

    Empty for a rehearsal (``--start`` given) and for an agenda that starts in the future.
    """
    start = agenda.planned_start
    if rehearsal or now < start:
        return []
    local = start.astimezone(agenda.timezone)
    day = "today" if local.date() == now.astimezone(agenda.timezone).date() else f"{local:%d %B %Y}"
    return [
        f"  The agenda was planned to start at {local:%H:%M} {day}. For a rehearsal that "
        "starts now, add --start now."
    ]
