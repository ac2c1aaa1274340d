"""Paths within an app mounted under a prefix (an event's ``/e/<slug>``)."""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path within the app, as Starlette's router sees it (``root_path`` removed only
    at a segment boundary)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
