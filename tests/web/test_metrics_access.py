"""Who may read /metrics: this computer always, other networks only when allowed."""

from __future__ import annotations

import ipaddress

import click
import pytest

from webinar.cli.serving import metrics_networks
from webinar.web.metrics import allowed

pytestmark = pytest.mark.unit


def test_loopback_is_allowed_with_no_network_given() -> None:
    assert allowed(("127.0.0.1", 5000), ())
    assert allowed(("::1", 5000), ())


def test_another_address_is_refused_unless_inside_an_allowed_network() -> None:
    networks = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))

    assert not allowed(("203.0.113.5", 5000), ())
    assert not allowed(("203.0.113.5", 5000), networks)
    assert allowed(("10.1.2.3", 5000), networks)
    assert allowed(("fd00::7", 5000), networks)


def test_no_client_or_a_name_instead_of_an_address_is_refused() -> None:
    assert not allowed(None, ())
    assert not allowed(("testclient", 50000), ())


def test_metrics_allow_takes_addresses_and_networks() -> None:
    networks = metrics_networks(None, None, ("10.0.0.0/8", "192.168.1.20", " fd00::/8 "))

    assert networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.20/32"),
        ipaddress.ip_network("fd00::/8"),
    )


def test_metrics_allow_refuses_what_is_not_a_network_with_a_sentence() -> None:
    with pytest.raises(click.BadParameter) as refused:
        metrics_networks(None, None, ("10.0.0.0/8", "intranet"))

    assert "'intranet' is not an address or a network" in refused.value.message
