"""Serving the app with uvicorn: connection limits, header timeouts and a private log.

uvicorn never times out a request whose headers are still arriving, and when the process
runs out of file descriptors its accept loop spins, logging each failed ``accept()``
(issue 11: 1,200 partial requests under ``ulimit -n 1024`` stopped every new request and
wrote 235 MB of log in 65 s). So here:

* the open-files soft limit is raised to the hard limit at start;
* connections are capped below that limit, so ``accept()`` always has a descriptor: when
  the cap is reached, the oldest connection still sending its headers makes room (a
  slow client never keeps a real one out), or, if there is none, the new one is closed;
* a request must finish its headers within ``header_timeout`` seconds of its first byte
  (or of the connection, for the first request), else the connection is closed;
* repeated log messages are rate-limited, and the access log holds no client address and
  no secret (host and organiser link tokens, query strings): with the log and the
  database together, an anonymous question still cannot be traced to a person.
"""

from __future__ import annotations

import logging
import re
import resource
import time
from copy import deepcopy
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

#: Seconds a request may take to send its headers.
HEADER_TIMEOUT = 10.0
#: Descriptors kept back from connections: the database and its WAL, log files, the
#: listening socket, DNS, the lock file.
RESERVED_FILES = 64
#: Largest listen backlog. asyncio accepts up to the backlog's number of connections in one
#: go, before any of them can be turned away, so the backlog's worth of descriptors is
#: kept free as well.
MAX_BACKLOG = 2048


def raise_open_files_limit() -> tuple[int, int]:
    """Raise RLIMIT_NOFILE's soft limit to its hard limit; return (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def listen_backlog(open_files: int) -> int:
    """The listen backlog for ``open_files`` descriptors: a quarter of them, at most 2,048."""
    return max(16, min(MAX_BACKLOG, open_files // 4))


def connection_cap(open_files: int) -> int:
    """How many connections to hold with ``open_files`` descriptors (at least 16): what is
    left after the reserve and one accept burst."""
    return max(16, open_files - RESERVED_FILES - listen_backlog(open_files))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and a connection cap (see module).

    Use :func:`guarded_protocol` for a class with its own settings and registry.
    """

    header_timeout: ClassVar[float] = HEADER_TIMEOUT
    max_connections: ClassVar[int] = 1024
    #: Connections waiting for a request's headers, oldest first (a dict keeps order).
    awaiting: ClassVar[dict[GuardedH11Protocol, None]] = {}
    closed_for_room: ClassVar[int] = 0
    timed_out: ClassVar[int] = 0

    _header_timer: Any = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self._make_room():
            type(self).closed_for_room += 1
            transport.close()
            return
        self._await_headers()

    def _make_room(self) -> bool:
        """Close the oldest connection still sending headers; False if there is none."""
        for oldest in self.awaiting:
            oldest._give_up()
            type(self).closed_for_room += 1
            return True
        return False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            self._stop_waiting()
        elif self.conn.their_state is h11.IDLE:
            self._await_headers()  # part of a request's headers: the clock keeps running
        else:
            self._stop_waiting()  # headers complete (or upgraded to a WebSocket)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle between requests is the keep-alive timeout's; a new request's first byte
        # starts the header clock again (data_received).
        self._stop_waiting()

    def _await_headers(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)
            self.awaiting[self] = None

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self.awaiting.pop(self, None)

    def _headers_late(self) -> None:
        self._header_timer = None
        type(self).timed_out += 1
        self._give_up()

    def _give_up(self) -> None:
        self._stop_waiting()
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(
    header_timeout: float = HEADER_TIMEOUT, max_connections: int = 1024
) -> type[GuardedH11Protocol]:
    """A protocol class with these settings and a registry of its own."""
    return type(
        "ServerProtocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": header_timeout,
            "max_connections": max_connections,
            "awaiting": {},
            "closed_for_room": 0,
            "timed_out": 0,
        },
    )


# -- the log ------------------------------------------------------------------------------------

#: Path segments that are secrets: the token of /enter/<role>/<token> (an event's too,
#: under /e/<slug>).
_SECRET_PATH = re.compile(r"^((?:/e/[^/?]+)?/enter/[^/?]+/)[^/?]+")


def private_path(path: str) -> str:
    """A request path fit for the log: secret tokens and query strings left out."""
    path, query_mark, _ = path.partition("?")
    path = _SECRET_PATH.sub(r"\1[token]", path)
    return path + ("?[query]" if query_mark else "")


class PrivateAccessLog(logging.Filter):
    """Takes client addresses and secrets out of uvicorn's access and WebSocket lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            _, method, path, version, status = args
            record.args = ("-", method, private_path(str(path)), version, status)
        elif (
            isinstance(record.msg, str)
            and record.msg.startswith('%s - "WebSocket %s"')
            and isinstance(args, tuple)
            and len(args) == 2
        ):
            record.msg = record.msg[len("%s - ") :]
            record.args = (private_path(str(args[1])),)
        return True


class RateLimitedLog(logging.Filter):
    """At most ``burst`` records of the same message per ``period`` seconds; the next one
    shown after that says how many were left out."""

    def __init__(self, burst: int = 5, period: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._seen: dict[tuple[str, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.getMessage())
        now = time.monotonic()
        start, shown, dropped = self._seen.get(key, (now, 0, 0))
        if now - start >= self.period:
            if dropped:
                record.msg = f"{key[1]} ({dropped} more like this before)"
                record.args = ()
            start, shown, dropped = now, 0, 0
        if shown >= self.burst:
            self._seen[key] = (start, shown, dropped + 1)
            return False
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = (start, shown + 1, dropped)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging set-up with the private access log and rate-limited repeats."""
    config = deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "private": {"()": PrivateAccessLog},
        "rate": {"()": RateLimitedLog},
    }
    config["formatters"]["access"]["fmt"] = '%(levelprefix)s "%(request_line)s" %(status_code)s'
    config["handlers"]["access"]["filters"] = ["private"]
    # Errors and warnings (uvicorn's, asyncio's) repeat without bound under attack.
    config["handlers"]["default"]["filters"] = ["private", "rate"]
    # asyncio's own errors (a failed accept() when descriptors run out) go through the same
    # rate-limited handler instead of the root logger's unbounded one.
    config["loggers"]["asyncio"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(app: Any, *, host: str, port: int, header_timeout: float = HEADER_TIMEOUT) -> None:
    """Serve ``app`` until interrupted (the ``webinar serve`` server)."""
    before, after = raise_open_files_limit()
    cap = connection_cap(after)
    if after > before:
        print(f"  open files: raised the limit from {before} to {after}", flush=True)
    print(f"  connections: at most {cap} at once", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=guarded_protocol(header_timeout, cap),
        **uvicorn_options(after),
    )


def uvicorn_options(open_files: int) -> dict[str, Any]:
    """What every ``webinar serve`` gives uvicorn besides the app, address and protocol
    (one process, or each of ``--workers N``)."""
    return {
        "backlog": listen_backlog(open_files),
        "log_config": log_config(),
        "log_level": "info",
        "ws_max_size": WS_MAX_SIZE,
        # Per-message compression doubles memory per connection and compresses every
        # event once per client; events are small. Off.
        "ws_per_message_deflate": False,
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
    }


#: WebSocket messages from clients are small JSON; refuse anything larger.
WS_MAX_SIZE = 64 * 1024
