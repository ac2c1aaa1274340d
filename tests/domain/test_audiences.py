"""The roles and audiences, named once (webinar/domain/audiences.py)."""

from __future__ import annotations

import pytest

from webinar.domain import audiences

pytestmark = pytest.mark.unit


def test_staff_is_hosts_and_organisers() -> None:
    assert [audiences.is_staff(role) for role in audiences.ROLES] == [False, True, True]


def test_an_attendee_hears_everyone_and_their_own() -> None:
    assert audiences.of("abc", audiences.ATTENDEE) == {"all", "p:abc"}


@pytest.mark.parametrize("role", [audiences.HOST, audiences.ORGANISER])
def test_staff_also_hear_staff(role: str) -> None:
    assert audiences.of("abc", role) == {"all", "p:abc", "staff"}


def test_each_builder_names_its_kind() -> None:
    built = {
        audiences.EVERYONE: "all",
        audiences.STAFF: "staff",
        audiences.participant("abc"): "participant",
        audiences.question_owner(7): "question",
        audiences.group(3, 2): "group",
    }
    assert {audience: audiences.kind(audience) for audience in built} == built
    assert list(built) == ["all", "staff", "p:abc", "q:7", "g:3:2"]


@pytest.mark.parametrize("text", ["", "everyone", "x:1", "p", "staffs"])
def test_kind_refuses_what_no_builder_makes(text: str) -> None:
    with pytest.raises(ValueError, match="is not an audience"):
        audiences.kind(text)


def test_the_question_of_an_owner_audience_is_read_back() -> None:
    assert audiences.question_of(audiences.question_owner(42)) == 42


@pytest.mark.parametrize("audience", ["all", "staff", "p:42", "g:1:2", "q:", "q:x", "q:²"])
def test_other_audiences_name_no_question(audience: str) -> None:
    assert audiences.question_of(audience) is None
