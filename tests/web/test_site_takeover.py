"""A worker whose taking over of an event fails half-way (Redis or the database failing
between taking the lease and writing) gives the lease up and goes on bidding: the error
never ends its bidding for the event."""

from __future__ import annotations

from typing import cast

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from helpers import LiveServer, site_of
from webinar.services.writer import EventWriter

pytestmark = pytest.mark.integration


class FailingWriter:
    """Takes the lease, then fails (as ``take_writing`` does with the database away)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.stepped_down = 0

    async def take_over(self) -> bool:
        raise self.error

    async def step_down(self) -> None:
        self.stepped_down += 1


@pytest.mark.parametrize(
    "error", [RedisConnectionError("Redis went away"), OSError("database went away")]
)
async def test_a_take_over_that_fails_gives_the_lease_up_and_says_not_now(
    server: LiveServer, error: Exception
) -> None:
    site = site_of(server)
    writer = FailingWriter(error)

    taken = await site._take_over(server.slug, cast(EventWriter, writer))

    assert taken is False  # the caller follows the stream and bids again
    assert writer.stepped_down == 1  # the lease it may hold is given up, not left to expire
