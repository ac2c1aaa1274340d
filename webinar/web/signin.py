"""Staff sign-in pages: ``/signin`` (email and password, or the organisation's OpenID
provider), its OpenID callback, and ``/signout``.

Signing in replaces the whole session (a new session id and CSRF token), so nothing set
before sign-in (by someone who planted a cookie) carries over.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from webinar.services.access import AccessError, Participant
from webinar.web.api import client_of
from webinar.web.auth import current_participant, services_of
from webinar.web.oidc import JoseError, OAuthError, OidcConfig, claims_of
from webinar.web.pages import HOME_BY_ROLE, at, render, with_retry_after
from webinar.web.security import CSRF_FIELD, csrf_ok, origin_allowed
from webinar.web.sessions import SessionCookie

#: The organiser's programme (``webinar/web/programme.py``), which OpenID sign-in can lead to.
PROGRAMME = "/programme"

log = logging.getLogger(__name__)

EMAIL_FIELD_MAX = 320


def _oidc(request: Request) -> tuple[OidcConfig, Any] | None:
    found: tuple[OidcConfig, Any] | None = request.app.state.oidc
    return found


def _page(
    request: Request, status: int = 200, email: str = "", errors: dict[str, str] | None = None
) -> HTMLResponse:
    oidc = _oidc(request)
    return render(
        request,
        "signin.html",
        status=status,
        participant=None,
        email=email,
        errors=errors or {},
        oidc_label=oidc[0].label if oidc else None,
    )


def _signed_in(request: Request, session_id: str, participant: Participant) -> Response:
    request.session.clear()  # a new session: nothing from before sign-in is kept
    request.session["sid"] = session_id
    return RedirectResponse(at(request, HOME_BY_ROLE[participant.role]), status_code=303)


async def signin_page(request: Request) -> Response:
    """GET /signin: the staff sign-in form (or the staff member's page if signed in)."""
    participant = await current_participant(request)
    if participant is not None and participant.role != "attendee":
        return RedirectResponse(at(request, HOME_BY_ROLE[participant.role]), status_code=303)
    return _page(request)


async def signin_submit(request: Request) -> Response:
    """POST /signin: email and password."""
    form = await request.form(max_files=0, max_fields=10)
    values = {k: v if isinstance(v, str) else "" for k, v in form.items()}
    email = values.get("email", "")[:EMAIL_FIELD_MAX]
    if not origin_allowed(request.headers, request.app.state.allowed_origins) or not csrf_ok(
        request, values.get(CSRF_FIELD)
    ):
        errors = {"form": "Your page was out of date. Please try again."}
        return _page(request, 403, email, errors)
    try:
        session_id, participant = await services_of(request).accounts.sign_in(
            email, values.get("password", ""), client=client_of(request)
        )
    except AccessError as exc:
        page = _page(request, exc.status, email, {exc.field or "form": str(exc)})
        return with_retry_after(page, exc)
    return _signed_in(request, session_id, participant)


async def signout(request: Request) -> Response:
    """POST /signout: end this browser's session, then back to the sign-in page."""
    participant = await current_participant(request)
    form = await request.form(max_files=0, max_fields=5)
    token = form.get(CSRF_FIELD)
    if participant is not None and not csrf_ok(request, token if isinstance(token, str) else None):
        return render(request, "forbidden.html", status=403, participant=participant)
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        await services_of(request).access.end_session(session_id)
    request.session.clear()
    return RedirectResponse(at(request, "/signin"), status_code=303)


async def oidc_start(request: Request) -> Response:
    """GET /signin/oidc: off to the organisation's provider (404 when none is set up)."""
    oidc = _oidc(request)
    if oidc is None:
        return render(request, "forbidden.html", status=404, participant=None)
    config, client = oidc
    if request.query_params.get("next") == "programme":
        request.session["next"] = "programme"  # back to the programme once signed in
    try:
        response: Response = await client.authorize_redirect(
            request, config.redirect_uri(request.app.state.base_url)
        )
    except (httpx.HTTPError, OAuthError, ValueError) as exc:
        log.warning("OpenID provider %s unreachable: %s", config.issuer, exc)
        return _unreachable(request, config)
    return response


def _unreachable(request: Request, config: OidcConfig) -> HTMLResponse:
    message = (
        f"Signing in with {config.label} is not working at the moment: the server could not "
        "reach it. Please try again in a minute, or sign in with your password."
    )
    return _page(request, 502, errors={"form": message})


async def oidc_callback(request: Request) -> Response:
    """GET /signin/oidc/callback: the provider sends the browser back here."""
    oidc = _oidc(request)
    if oidc is None:
        return render(request, "forbidden.html", status=404, participant=None)
    config, client = oidc
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        return _page(request, 400, errors={"form": _refusal(config, exc)})
    except JoseError as exc:  # an ID token that fails its checks
        log.warning("OpenID ID token refused: %s", exc)
        message = f"Signing in with {config.label} did not complete. Please try again."
        return _page(request, 400, errors={"form": message})
    except httpx.HTTPError as exc:
        log.warning("OpenID provider %s unreachable: %s", config.issuer, exc)
        return _unreachable(request, config)
    userinfo = token.get("userinfo")
    if not userinfo or "sub" not in userinfo or "iss" not in userinfo:
        message = f"{config.label} did not say who you are. Please try again."
        return _page(request, 400, errors={"form": message})
    accounts = services_of(request).accounts
    try:
        if request.session.pop("next", None) == "programme":
            account = await accounts.authenticate_oidc(claims_of(dict(userinfo)))
            return to_programme(request, account.id)
        session_id, participant = await accounts.sign_in_oidc(claims_of(dict(userinfo)))
    except AccessError as exc:
        return _page(request, exc.status, errors={"form": str(exc)})
    return _signed_in(request, session_id, participant)


def to_programme(request: Request, account_id: int) -> Response:
    """Signed in to the organiser's programme (its own cookie), and off to it."""
    cookie: SessionCookie = request.app.state.programme_cookie
    response = RedirectResponse(PROGRAMME, status_code=303)
    response.set_cookie(
        cookie.name,
        cookie.codec.encode({"uid": account_id}),
        max_age=cookie.max_age,
        path="/",
        secure=cookie.https_only,
        httponly=True,
        samesite=cookie.same_site,
    )
    return response


def _refusal(config: OidcConfig, exc: OAuthError) -> str:
    if exc.error == "access_denied":
        return f"Signing in with {config.label} was cancelled. You can try again."
    if exc.error == "mismatching_state":
        return (
            "This sign-in link was out of date or opened in another browser. Please start "
            "again from this page."
        )
    log.warning("OpenID sign-in refused: %s %s", exc.error, exc.description)
    return f"Signing in with {config.label} did not complete. Please try again."
