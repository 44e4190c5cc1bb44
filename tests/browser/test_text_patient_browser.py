""" "Text the patient" in headless Chromium: the live count (static/text_count.js) agrees with
dialogs/sms_rules.py on every sample, the live medicine warning with dialogs/phi.py, and the
confirmation step sends the words that were typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from bot.outreach import staff_text_prefix
from bot.transports.fake import FakeTransport
from dialogs.phi import named_medicines
from dialogs.sms_rules import single_segment_limit, sms_units
from store import queue
from store.models import QueueKind, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

SAMPLES = [
    "Please call us about your refill.",
    "Your order costs 12 € [cash]",  # the extension table counts twice
    "Señor, su pedido está listo",  # ñ is GSM-7, á is not
    "Hola 😀 see you soon",  # an emoji is two units
    "“Smart quotes” and an en dash –",
    "many   spaces\n\tand\u00a0a no-break space  ",  # collapsed as Python's split() does
    "x" * 150,  # over 160 with the pharmacy name
    "Your metformina and Albuterol are ready",
    "",
]


@pytest.fixture
def item_page(page: Page, session: Session) -> tuple[Page, str, list[str]]:
    store = make_store(session, "a", name="Alpha Pharmacy")
    ana = make_patient(session, store)
    item = queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=store.id,
        patient=ana,
        checkin=make_checkin(session, ana),
        text="when is my refill?",
    )
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    page.goto("/login")
    page.get_by_label("Email").fill("ph@a.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/items/{item}")
    session.expire_all()  # the medicines in the order the page reads them
    return page, staff_text_prefix(store), [m.name for m in ana.medicines]


def test_the_live_count_agrees_with_the_server_rule(
    item_page: tuple[Page, str, list[str]],
) -> None:
    page, prefix, medicines = item_page
    box, counter = page.get_by_label("Text the patient"), page.locator("#body-count")
    warning = page.locator("#body-medicines")
    for sample in SAMPLES:
        box.fill(sample)
        text = prefix + " ".join(sample.split())
        expect(counter).to_have_attribute("data-units", str(sms_units(text)))
        expect(counter).to_have_attribute("data-limit", str(single_segment_limit(text)))
        named = named_medicines(" ".join(sample.split()), medicines)
        if named:
            expect(warning).to_have_text(
                f"This text names a medicine ({', '.join(named)}) and this patient has not "
                "agreed to medicine names in texts."
            )
        else:
            expect(warning).to_be_hidden()
    box.fill("Señor, su pedido está listo")
    expect(counter).to_contain_text(
        "Some characters (á) make a text shorter: up to 70 characters instead of 160."
    )


def test_a_text_naming_a_medicine_is_sent_after_confirming_it(
    item_page: tuple[Page, str, list[str]], fake_transport: FakeTransport
) -> None:
    page, prefix, _ = item_page
    words = "Your metformin is ready for pickup."
    page.get_by_label("Text the patient").fill(words)
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_role("alert")).to_contain_text("Send anyway?")
    expect(page.get_by_label("Text the patient")).to_have_value(words)
    assert fake_transport.sent == []
    page.get_by_role("button", name="Send anyway").click()
    expect(page.get_by_role("alert")).to_contain_text("Send anyway?")  # the box is required
    page.get_by_label("Send it with the medicine name anyway").check()
    page.get_by_role("button", name="Send anyway").click()
    expect(page.get_by_role("status")).to_have_text("Text sent.")
    assert [m.body for m in fake_transport.sent] == [prefix + words]
    expect(page.locator(".transcript")).to_contain_text(re.compile(re.escape(words)))
