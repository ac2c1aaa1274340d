"""OpenID Connect sign-in for staff, through Authlib's Starlette client.

The provider is found by discovery from its issuer URL; every sign-in uses the
authorisation code flow with PKCE (S256), a state and a nonce, all kept in the signed
session cookie between the redirect and the callback and checked by Authlib, which also
checks the ID token's signature, issuer, audience and expiry.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import authlib.deprecate  # noqa: F401 - its own "always" filter first, so ours below wins

with warnings.catch_warnings():
    # Authlib prefers a fork of httpx and says so on import; httpx is what it runs on here.
    warnings.filterwarnings("ignore", "The httpx module is deprecated", DeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError

from webinar.domain.accounts import OidcClaims

CALLBACK_PATH = "/signin/oidc/callback"
SCOPES = "openid email profile"

#: Names for the button ("Sign in with Microsoft") of well-known issuers' hosts.
KNOWN_PROVIDERS = {
    "login.microsoftonline.com": "Microsoft",
    "accounts.google.com": "Google",
}

__all__ = ["CALLBACK_PATH", "JoseError", "OAuthError", "OidcConfig", "claims_of", "make_client"]


@dataclass(frozen=True)
class OidcConfig:
    """Where the organisation's OpenID provider is, and this install's client there."""

    issuer: str
    client_id: str
    client_secret: str
    #: Shown on the button: "Sign in with <name>".
    name: str = ""

    @property
    def label(self) -> str:
        host = urlsplit(self.issuer).hostname or ""
        return self.name or KNOWN_PROVIDERS.get(host, "your organisation's account")

    def redirect_uri(self, base_url: str) -> str:
        """The address to register with the provider as this install's redirect URI."""
        return base_url.rstrip("/") + CALLBACK_PATH


def make_client(config: OidcConfig) -> Any:
    """Authlib's client for the provider (metadata is fetched on first use)."""
    oauth = OAuth()
    oauth.register(
        name="staff",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=config.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10.0},
    )
    return oauth.create_client("staff")


def _true(value: object) -> bool:
    return value is True or value == "true"


def claims_of(userinfo: dict[str, Any]) -> OidcClaims:
    """What the checked ID token says. An email counts as verified when the provider says
    so: ``email_verified`` (Google, most providers) or ``xms_edov`` (Microsoft Entra ID:
    the email's domain is one the tenant has verified)."""
    email = userinfo.get("email")
    return OidcClaims(
        issuer=str(userinfo["iss"]),
        subject=str(userinfo["sub"]),
        email=email if isinstance(email, str) and email else None,
        email_verified=_true(userinfo.get("email_verified")) or _true(userinfo.get("xms_edov")),
    )
