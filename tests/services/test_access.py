"""Which key an address is limited under."""

from __future__ import annotations

import pytest

from webinar.services.access import address_key

pytestmark = pytest.mark.unit


def test_address_key_groups_ipv6_by_its_64_and_keeps_ipv4() -> None:
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("") == ""
