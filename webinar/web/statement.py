"""The accessibility statement at ``/accessibility``: the whole site's, after the model
statement of the UK's Public Sector Bodies (Websites and Mobile Applications) (No. 2)
Accessibility Regulations 2018. Each claim it makes is checked by a named test
(``tests/web/test_accessibility_statement.py`` maps them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from webinar import __version__
from webinar.web.render import site_environment
from webinar.web.security import SecurityHeadersMiddleware

PATH = "/accessibility"

#: When the statement was prepared (and last reviewed): change it with its text.
PREPARED = date(2026, 12, 7)

#: What ``--accessibility-contact`` takes.
CONTACT_HELP = "an email address (access@example.org) or a web address (https://...)"

_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_WEB = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class Contact:
    """How people report a problem: a link and the words shown for it."""

    href: str
    text: str


def parse_contact(value: str) -> Contact | None:
    """The contact for ``value`` (an email or web address); None for "" (not set).

    ``ValueError`` with a sentence for anything else."""
    value = value.strip()
    if not value:
        return None
    if _EMAIL.fullmatch(value):
        return Contact(f"mailto:{value}", value)
    if _WEB.fullmatch(value):
        return Contact(value, value)
    raise ValueError(f"The accessibility contact must be {CONTACT_HELP}, not '{value}'.")


def statement_app(contact: str) -> Starlette:
    """The statement's app, with ``contact`` (see :func:`parse_contact`) as the address
    for reporting problems; an invalid or empty one shows the placeholder."""
    template = site_environment().get_template("accessibility.html")
    try:
        shown = parse_contact(contact)
    except ValueError:
        shown = None  # the command line refuses it; a test or library caller gets the placeholder

    async def statement(request: Request) -> Response:
        body = template.render(
            contact=shown, prepared=PREPARED, version=__version__, site=str(request.base_url)
        )
        return HTMLResponse(body)

    return Starlette(
        routes=[Route(PATH, statement, methods=["GET"])],
        middleware=[Middleware(SecurityHeadersMiddleware)],
    )
