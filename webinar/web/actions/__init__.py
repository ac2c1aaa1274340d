"""Every state-changing action, once: who may call it, what it takes, what it does.

The JSON API (``POST /api/{area}/{command}``), the pages (htmx posts to the same URLs) and
WebSocket ``action`` messages all dispatch through :func:`perform`, so the role checks and
input validation are the same whichever way a request arrives, and the OpenAPI document
and the authorization tests enumerate :data:`REGISTRY`.
"""

from webinar.web.actions import (  # noqa: F401  (they register their actions)
    agenda,
    breakouts,
    event,
    polls,
    qa,
    roster,
    survey,
)
from webinar.web.actions.core import REGISTRY, ActionError, Context, perform

__all__ = ["REGISTRY", "ActionError", "Context", "perform"]
