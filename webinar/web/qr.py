"""The projector's QR code for the join link: an inline SVG made by segno."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import segno
from markupsafe import Markup

#: Medium error correction: still read when a projector's picture is dim or keystoned.
ERROR_LEVEL = "m"


@lru_cache(maxsize=64)
def qr_svg(url: str) -> Markup:
    """``url`` as a QR code: an ``<svg>`` of dark modules (class ``qr-modules``) with the
    four-module quiet zone, sized by its container. It names no colours the page's theme
    could hide: the stylesheet paints it dark on light in every theme."""
    code = segno.make(url, error=ERROR_LEVEL, micro=False)
    svg: str = code.svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass="qr-modules"
    )
    return Markup(svg)  # segno's own markup: no text of ours inside it


def short_address(url: str) -> str:
    """What people type: ``example.org/e/demo/join`` for ``https://example.org/e/demo/join?code=X``."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/")
