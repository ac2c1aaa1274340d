"""``webinar serve --workers N``: uvicorn's supervisor runs N worker processes.

The supervisor (uvicorn's ``Multiprocess``) binds the public port, starts the workers
(``spawn``), and starts a new one when one dies. The server's settings travel to the
workers as a pickled file named by :data:`SETTINGS_ENV` (readable by this user only);
the protocol class is built in each worker from :data:`PROTOCOL_ENV` (a class made by
``type()`` cannot be pickled). Each worker also listens on a private address of its own
(``webinar.web.forward.PrivateListener``: the ``--advertise`` host, a free port) that it puts in its
leases' tokens, so the others know where to forward an event's requests
(``webinar.web.forward``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import tempfile
from typing import Any

import uvicorn

from webinar.web.server import (
    HEADER_TIMEOUT,
    GuardedH11Protocol,
    connection_cap,
    guarded_protocol,
    raise_open_files_limit,
    uvicorn_options,
)

#: The file holding the pickled settings of the workers' server.
SETTINGS_ENV = "WEBINAR_WORKER_SETTINGS"
#: JSON ``[header_timeout, max_connections]`` for each worker's protocol class.
PROTOCOL_ENV = "WEBINAR_WORKER_PROTOCOL"


def _protocol_from_env() -> type[GuardedH11Protocol]:
    raw = os.environ.get(PROTOCOL_ENV)
    if not raw:
        return guarded_protocol()
    timeout, cap = json.loads(raw)
    return guarded_protocol(float(timeout), int(cap))


#: The workers' protocol class (uvicorn imports it by name: ``http=`` below).
WorkerProtocol = _protocol_from_env()
PROTOCOL_PATH = f"{__name__}:WorkerProtocol"
APP_PATH = f"{__name__}:worker_app"


def worker_app() -> Any:
    """The app of one worker (uvicorn's factory): the server's, from :data:`SETTINGS_ENV`."""
    from webinar.web.site import create_app

    with open(os.environ[SETTINGS_ENV], "rb") as handle:
        settings = pickle.load(handle)  # our own file, the supervisor's
    return create_app(settings)


def run_workers(
    settings: Any, *, host: str, port: int, workers: int, header_timeout: float = HEADER_TIMEOUT
) -> None:
    """Serve with ``workers`` processes under uvicorn's supervisor, which restarts a worker
    that dies (``webinar serve --workers N``; see ``webinar.web.workers``)."""
    before, after = raise_open_files_limit()
    cap = connection_cap(after)
    if after > before:
        print(f"  open files: raised the limit from {before} to {after}", flush=True)
    print(f"  connections: at most {cap} at once per worker, {workers} workers", flush=True)
    with tempfile.TemporaryDirectory(prefix="webinar-workers-") as folder:
        path = os.path.join(folder, "settings.pickle")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            pickle.dump(dataclasses.replace(settings, workers=workers), handle)
        os.environ[SETTINGS_ENV] = path
        os.environ[PROTOCOL_ENV] = json.dumps([header_timeout, cap])
        uvicorn.run(
            APP_PATH,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            http=PROTOCOL_PATH,
            **uvicorn_options(after),
        )
