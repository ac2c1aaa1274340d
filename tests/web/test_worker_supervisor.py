"""``webinar serve --workers N`` in this process: the settings file the supervisor writes
for its workers (this user's only, gone when it stops), the count of workers it carries,
the workers' protocol class from the environment, and each worker's app from the file.
The processes themselves run in tests/integration/test_workers.py."""

from __future__ import annotations

import json
import os
import pickle
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.web import workers
from webinar.web.app import Settings
from webinar.web.server import HEADER_TIMEOUT
from webinar.web.site import Site


def settings_of(tmp_path: Path) -> Settings:
    return Settings(
        agenda=load_agenda(SEED_AGENDA, today=date(2026, 12, 7)),
        db_path=str(tmp_path / "webinar.db"),
        secrets={"peer_secret": "s" * 43},
    )


def test_the_supervisor_hands_its_workers_a_private_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def run(app: str, **options: Any) -> None:  # uvicorn.run, as the supervisor calls it
        path = os.environ[workers.SETTINGS_ENV]
        seen["mode"] = stat.S_IMODE(os.stat(path).st_mode)
        with open(path, "rb") as handle:
            seen["settings"] = pickle.load(handle)
        seen["protocol"] = json.loads(os.environ[workers.PROTOCOL_ENV])
        seen["path"], seen["app"], seen["options"] = path, app, options

    monkeypatch.setattr(uvicorn, "run", run)
    # Recorded, so that what the supervisor sets is taken back after the test.
    monkeypatch.setenv(workers.SETTINGS_ENV, "")
    monkeypatch.setenv(workers.PROTOCOL_ENV, "")
    given = settings_of(tmp_path)

    workers.run_workers(given, host="127.0.0.1", port=8123, workers=3, header_timeout=7.5)

    assert seen["mode"] == 0o600  # the secrets in it are this user's only
    assert seen["settings"].workers == 3  # each worker waits for the others at start
    assert seen["settings"].secrets == given.secrets and given.workers == 1
    assert seen["protocol"][0] == 7.5 and seen["protocol"][1] > 0
    assert seen["app"] == workers.APP_PATH
    assert seen["options"]["factory"] is True and seen["options"]["workers"] == 3
    assert seen["options"]["http"] == workers.PROTOCOL_PATH
    assert (seen["options"]["host"], seen["options"]["port"]) == ("127.0.0.1", 8123)
    assert not os.path.exists(seen["path"])  # removed once the supervisor stops


def test_a_worker_builds_its_app_from_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.pickle"
    with open(path, "wb") as handle:
        pickle.dump(settings_of(tmp_path), handle)
    monkeypatch.setenv(workers.SETTINGS_ENV, str(path))

    app = workers.worker_app()

    assert isinstance(app, Site)
    assert app.settings.db_path == str(tmp_path / "webinar.db")


def test_the_workers_protocol_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(workers.PROTOCOL_ENV, json.dumps([12.5, 300]))
    given = workers._protocol_from_env()
    monkeypatch.delenv(workers.PROTOCOL_ENV)
    default = workers._protocol_from_env()

    assert (given.header_timeout, given.max_connections) == (12.5, 300)
    assert default.header_timeout == HEADER_TIMEOUT
