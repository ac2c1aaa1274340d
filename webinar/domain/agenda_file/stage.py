"""Reading the agenda file's ``[stage]``, ``[items.stage]`` and ``[items.breakout.call]``.

Part of the agenda-file package, with its reader, so problems are collected
and worded like every other setting's. The file names only providers and their public
addresses: secrets (a Jitsi app secret, a BigBlueButton shared secret) belong to the
server's configuration, never to an agenda file, and are refused here if someone tries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from webinar.domain.agenda_file.reader import Reader
from webinar.domain.video import (
    CALL_PROVIDERS,
    NO_STAGE,
    STAGE_KINDS,
    CallSettings,
    Stage,
    address_problem,
)

STAGE_KEYS = ("kind", "url", "title", "captions")
CALL_KEYS = ("provider", "url")
SECRET_WORDS = ("secret", "app_secret", "shared_secret", "password", "key", "token")
STAGE_EXAMPLE = "https://www.youtube-nocookie.com/embed/VIDEO"
CAPTIONS_EXAMPLE = "https://captions.example.org/event"
CALL_EXAMPLES = {
    "jitsi": "https://meet.example.org",
    "bbb": "https://bbb.example.org/bigbluebutton/",
    "link": "https://video.example.org/room-{group}",
}


def _secrets_elsewhere(keys: Sequence[str]) -> dict[str, str]:
    where = (
        "secrets are never written in an agenda file (it is shared and shown); give them "
        "to the server instead, see docs/video.md"
    )
    return {key: where for key in SECRET_WORDS if key not in keys}


def _address(
    reader: Reader,
    table: Mapping[str, object],
    key: str,
    label: str | None,
    field: str,
    example: str,
    *,
    required: bool,
) -> str | None:
    value = reader.text(table, key, label, field, required=required, hint=f', like "{example}"')
    if value is None or (not required and not value.strip()):
        return None
    problem = address_problem(value, example)
    if problem is not None:
        reader.problem(label, field, problem)
        return None
    return value.strip()


def _choice(
    reader: Reader,
    table: dict[str, object],
    key: str,
    label: str | None,
    field: str,
    choices: tuple[str, ...],
    noun: str,
) -> str | None:
    """The required ``key`` of ``table``, one of ``choices`` (stripped); ``None`` (with the
    problem said) when it is missing or another word."""
    value = reader.text(
        table,
        key,
        label,
        f"{field}.{key}",
        required=True,
        hint=f"; give one of {', '.join(choices)}",
    )
    if value is None:
        return None
    if value.strip() not in choices:
        reader.problem(
            label, f"{field}.{key}", f'is "{value}", but {noun} is one of {", ".join(choices)}.'
        )
        return None
    return value.strip()


def read_stage(reader: Reader, value: object, label: str | None, field: str) -> Stage | None:
    """A stage table (or ``false`` on an item: no stage); ``None`` when absent or wrong."""
    if value is False and label is not None:
        return NO_STAGE
    header = "[items.stage]" if label is not None else "[stage]"
    table = reader.table(value, label, field, header)
    if table is None:
        return None
    reader.check_keys(table, STAGE_KEYS, label, field + ".", _secrets_elsewhere(STAGE_KEYS))
    kind = _choice(reader, table, "kind", label, field, STAGE_KINDS, "a stage")
    url = _address(reader, table, "url", label, f"{field}.url", STAGE_EXAMPLE, required=True)
    title = reader.text(table, "title", label, f"{field}.title") or ""
    captions = _address(
        reader, table, "captions", label, f"{field}.captions", CAPTIONS_EXAMPLE, required=False
    )
    given = table.get("captions", "")
    captions_wrong = captions is None and not (isinstance(given, str) and not given.strip())
    if kind is None or url is None or captions_wrong:
        return None
    return Stage(kind, url, title.strip(), captions or "")


def read_call(reader: Reader, value: object, label: str) -> CallSettings | None:
    """A breakout's ``[items.breakout.call]`` table; ``None`` when wrong."""
    field = "breakout.call"
    table = reader.table(value, label, field, "[items.breakout.call]")
    if table is None:
        return None
    reader.check_keys(table, CALL_KEYS, label, field + ".", _secrets_elsewhere(CALL_KEYS))
    provider = _choice(reader, table, "provider", label, field, CALL_PROVIDERS, "a call provider")
    if provider is None:
        return None
    example = CALL_EXAMPLES[provider]
    url = _address(reader, table, "url", label, f"{field}.url", example, required=True)
    if url is None:
        return None
    if provider != "link" and "{" in url:
        reader.problem(
            label,
            f"{field}.url",
            f'is the address of the {provider} server itself, without "{{group}}": rooms are '
            f'named for each group by the platform, like "{example}".',
        )
        return None
    return CallSettings(provider, url)
