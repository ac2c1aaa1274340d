"""The Q&A forum in real browsers: ask, review, approve, vote, highlight, answer.

Two attendees and a host, each in their own browser context (their own session), plus the
projector page in the host's context. Every step is done through the pages' own controls
and checked on the other screens, which follow over the WebSocket without a reload.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from helpers import LiveServer, attendee_of, host_of

pytestmark = pytest.mark.e2e

#: Typed by an attendee: must show as these characters, never as markup.
MARKUP_QUESTION = "Can the <b>bold</b> review findings be shared with schools?"
ANSWER = "Yes: the Panel publishes a schools briefing with every national review."
REPEATED_QUESTION = "Will the slides be sent round after the webinar?"
NAMING_REPLY = "We had this with Jamie Smith in Year 4 last spring."


async def assert_literal(text_element: Any, text: str) -> None:
    """The element shows ``text`` character for character, with no element made of it."""
    await expect(text_element).to_have_text(text)
    assert await text_element.locator("b").count() == 0, "the question's <b> became markup"


async def test_ask_approve_vote_highlight_answer(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    ann_screen, bob_screen, host_screen = await new_screen(), await new_screen(), await new_screen()
    ann = await site.join(ann_screen, "Ann Asker", "Leeds Safeguarding Partnership")
    bob = await site.join(bob_screen, "Bob Voter", "Kent Children's Services")
    host = await site.enter(host_screen, "host")

    projector = await host_screen.context.new_page()
    projector.set_default_timeout(10_000)
    host_screen.console.watch(projector)
    await projector.goto(f"{server.base}/projector")
    await expect(projector.locator("#connection")).to_have_attribute("data-state", "open")
    await check.mark_document(projector)

    # The host asks for questions to be reviewed (a setting folded away in the questions
    # pane); attendees are told so.
    await host.get_by_text("Forum settings and downloads").click()
    await host.get_by_role("button", name="Review before publishing").click()
    reviewed = "Questions are reviewed by the host before they are shown."
    for page in (ann, bob):
        await expect(page.locator("#qa-status")).to_contain_text(reviewed)

    # Ann asks; her own list shows it waiting, Bob's forum does not show it.
    await ann.get_by_label("Your question", exact=True).fill(MARKUP_QUESTION)
    await ann.get_by_role("button", name="Send question").click()
    await expect(ann.locator("#flash")).to_have_text(
        "Thank you. Your question will be shown once the host has reviewed it."
    )
    await expect(ann.get_by_label("Your question", exact=True)).to_have_value("")
    mine = ann.locator("#my-questions-list > li")
    await expect(mine).to_have_count(1)
    await expect(mine.first.locator(".badge")).to_have_text("Waiting for the host to review it")
    await assert_literal(mine.first.locator(".q-text"), MARKUP_QUESTION)

    pending = host.locator("#qa-pending > li")
    await expect(pending).to_have_count(1)
    await assert_literal(pending.first.locator(".q-text"), MARKUP_QUESTION)
    await expect(pending.first.locator(".badge-state")).to_have_text("Waiting for approval")
    card_id = await pending.first.get_attribute("id") or ""
    question_id = int(card_id.removeprefix("sq-"))
    # The host's screen has it, so the (pending-only) events were all sent by now.
    await expect(bob.locator("#qa").get_by_text("bold", exact=False)).to_have_count(0)
    await expect(bob.locator("#qa-list > li")).to_have_count(0)

    # The host approves it: it leaves the queue and reaches Bob.
    await pending.first.get_by_role("button", name="Approve").click()
    await expect(pending).to_have_count(0)
    staff_card = host.locator(f"#sq-{question_id}")
    await expect(staff_card.locator(".badge-state")).to_have_text("Published")
    await expect(host.locator("#qa-staff-list > li")).to_have_count(1)

    bob_card = bob.locator(f"#qa-list > #q-{question_id}")
    show_new = bob.get_by_role("button", name="Show 1 new question")
    await expect(bob_card.or_(show_new)).to_be_visible()
    if await show_new.is_visible():
        await show_new.click()
    await expect(bob_card).to_be_visible()
    await assert_literal(bob_card.locator(".q-text"), MARKUP_QUESTION)
    await expect(ann.locator(f"#q-{question_id}")).to_be_visible()
    await expect(mine.first.locator(".badge")).to_have_text("Published")

    # Bob votes.
    vote = bob_card.locator("button.vote")
    await expect(vote).to_have_attribute("aria-pressed", "false")
    await vote.click()
    await expect(vote).to_have_attribute("aria-pressed", "true")
    await expect(vote.locator(".vote-label")).to_have_text("Voted")
    await expect(vote.locator(".count")).to_have_text("1")
    await expect(vote).to_have_accessible_name(re.compile(r"^Voted 1$"))
    await expect(staff_card.locator(f"#sq-{question_id}-votes")).to_have_text("1")
    await expect(ann.locator(f"#q-{question_id}-votes")).to_have_text("1")

    # The host puts it on the projector.
    await staff_card.get_by_role("button", name="Show on projector").click()
    highlight = projector.locator("#qa-highlight")
    await assert_literal(highlight.locator(".highlight-text"), MARKUP_QUESTION)
    await expect(highlight).to_contain_text("Ann Asker, Leeds Safeguarding Partnership")
    await expect(staff_card.get_by_role("button", name="Remove from projector")).to_be_visible()
    for page in (ann, bob):
        await expect(page.locator(f"#q-{question_id}-meta")).to_contain_text("Being answered now")

    # The host writes the answer, in the dialog the card's "More" opens; sent, it closes.
    await staff_card.get_by_text("More: decline, correct, merge, answer…").click()
    dialog = host.locator("#host-dialog")
    await expect(dialog.get_by_role("heading")).to_have_text(
        f"Question #{question_id}: decline, correct, merge or answer"
    )
    await dialog.get_by_label("Written answer").fill(ANSWER)
    await dialog.get_by_role("button", name="Publish answer").click()
    await expect(dialog).to_be_hidden()
    await expect(staff_card.get_by_label("Written answer")).to_have_count(1)
    await expect(staff_card.locator(".q-meta")).to_contain_text("Answered in writing")
    for page in (ann, bob):
        card = page.locator(f"#q-{question_id}")
        await expect(card.locator(".q-meta")).to_contain_text("Answered in writing")
        summary = card.locator(".replies > summary")
        await expect(summary).to_have_text("Replies (1)")
        await summary.click()
        answer = card.locator(".reply-list > li.answer")
        await expect(answer).to_be_visible()
        await expect(answer).to_contain_text(f"Answer from the panel: {ANSWER}")
        await assert_literal(card.locator(".q-text"), MARKUP_QUESTION)
    await expect(mine.first.locator(".badge")).to_have_text("Published · answered")

    # Bob's reply names a child; the host hides it from every attendee, then shows it again.
    bob_card = bob.locator(f"#q-{question_id}")
    await bob_card.get_by_label("Your reply").fill(NAMING_REPLY)
    await bob_card.get_by_role("button", name="Send reply").click()
    ann_card = ann.locator(f"#q-{question_id}")
    await expect(ann_card.locator(".replies > summary")).to_have_text("Replies (2)")
    await expect(ann_card.get_by_text(NAMING_REPLY)).to_be_visible()
    staff_reply = staff_card.locator(".reply-list > li", has_text=NAMING_REPLY)
    await staff_reply.get_by_role("button", name="Hide reply").click()
    await expect(staff_reply.locator(".badge")).to_have_text("Hidden from attendees")
    # The live update replaced the button; focus moved to its counterpart, not the page top.
    await expect(staff_reply.get_by_role("button", name="Show reply again")).to_be_focused()
    for page in (ann, bob):
        card = page.locator(f"#q-{question_id}")
        await expect(card.locator(".replies > summary")).to_have_text("Replies (1)")
        await expect(card.get_by_text(NAMING_REPLY)).to_have_count(0)
    await staff_reply.get_by_role("button", name="Show reply again").click()
    await expect(ann_card.locator(".replies > summary")).to_have_text("Replies (2)")
    await expect(staff_reply.get_by_role("button", name="Hide reply")).to_be_focused()

    # Three fast clicks on "Send question" store one question.
    await ann.get_by_label("Your question", exact=True).fill(REPEATED_QUESTION)
    await ann.get_by_role("button", name="Send question").click(click_count=3)
    await expect(mine).to_have_count(2)
    await expect(ann.get_by_label("Your question", exact=True)).to_have_value("")
    await expect(ann.get_by_role("button", name="Send question")).to_be_enabled()
    await expect(pending).to_have_count(1)
    await expect(pending.first.locator(".q-text")).to_have_text(REPEATED_QUESTION)

    staff = await host_of(server)
    try:
        response = await staff.http.get("/api/qa/questions")
        assert response.status_code == 200, response.text
        texts = [q["text"] for q in response.json()["questions"]]
    finally:
        await staff.close()
    assert sorted(texts) == sorted([MARKUP_QUESTION, REPEATED_QUESTION]), texts
    await expect(mine).to_have_count(2)
    await expect(pending).to_have_count(1)

    await check.not_reloaded(ann, bob, host, projector)
    await check.clean(ann_screen, bob_screen, host_screen)


async def test_questions_folded_into_one_message_all_show(
    server: LiveServer, new_screen: Any, site: Any, check: Any
) -> None:
    bob_screen = await new_screen()
    frames: list[str] = []
    bob_screen.page.on(
        "websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data)))
    )
    bob = await site.join(bob_screen, "Bob Reader", "Kent Children's Services")
    listed = bob.locator("#qa-list > li")
    server.services.hub.fold_seconds = 3.0  # the asks below fall in one window
    ann = await attendee_of(server, "Ann Asker")
    try:
        first = await ann.act(
            "qa.ask", text="Opening question, pushed at once?", key="fold-test-opening-key0"
        )
        assert first.status_code == 200, first.text
        await expect(listed).to_have_count(1)
        texts = [f"Folded question number {n}?" for n in range(3)]
        for n, text in enumerate(texts):
            response = await ann.act("qa.ask", text=text, key=f"fold-test-question-{n:04d}")
            assert response.status_code == 200, response.text
    finally:
        await ann.close()

    await expect(listed).to_have_count(4, timeout=15_000)
    for text in texts:
        await expect(bob.locator("#qa-list").get_by_text(text)).to_be_visible()
    # They came in one WebSocket message, each event led by its own sequence marker.
    folded = [f for f in frames if all(text in f for text in texts)]
    assert len(folded) == 1, [f[:200] for f in frames]
    assert folded[0].count('<div id="live-seq"') >= 3
    seqs = [int(s) for s in re.findall(r'<div id="live-seq" data-seq="(\d+)"', folded[0])]
    assert seqs == sorted(seqs)
    assert await bob.locator("#live-seq").get_attribute("data-seq") == str(seqs[-1])
    await check.not_reloaded(bob)
    await check.clean(bob_screen)
