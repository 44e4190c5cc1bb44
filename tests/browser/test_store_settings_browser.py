"""The admin's Stores page in headless Chromium, at a desktop and a phone width: every setting
laid out as label, box and rule, a refused save showing each error beside its own box with
what was typed still there."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from store.models import Role
from store.store_settings import FIELDS
from tests.factories import make_store
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

# For each setting: its label sits above its box, the box fits in its card, and no two
# settings overlap. Returns the problems found, as text.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth)
    problems.push('page scrolls sideways');
  const boxes = [];
  for (const setting of document.querySelectorAll('.setting')) {
    const label = setting.querySelector('label').getBoundingClientRect();
    const input = setting.querySelector('input').getBoundingClientRect();
    const card = setting.closest('.card').getBoundingClientRect();
    const name = setting.querySelector('input').name;
    if (label.bottom > input.top + 1) problems.push(name + ': label not above its box');
    if (input.left < card.left || input.right > card.right)
      problems.push(name + ': box outside card');
    if (input.width < 120) problems.push(name + ': box too narrow');
    boxes.push([name, setting.getBoundingClientRect()]);
  }
  for (const [a, ra] of boxes) for (const [b, rb] of boxes) {
    const apart = ra.right <= rb.left || rb.right <= ra.left
      || ra.bottom <= rb.top || rb.bottom <= ra.top;
    if (a < b && !apart) problems.push(a + ' overlaps ' + b);
  }
  return problems;
}"""


def columns(page: Page) -> int:
    lefts = page.eval_on_selector_all(
        ".card:first-of-type .setting",
        "els => els.map(e => Math.round(e.getBoundingClientRect().left))",
    )
    return len(set(lefts))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_stores_page_lays_out_every_setting_and_explains_each_error(
    page: Page, session: Session, width: int
) -> None:
    store = make_store(session, "a", name="Alpha Pharmacy")
    make_user(session, "admin@a.org", Role.ADMIN, store)
    session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill("admin@a.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/admin/stores")

    for field in FIELDS:  # every setting is editable, including the scheduler's
        expect(page.get_by_label(field.label, exact=True)).to_be_visible()
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    assert (columns(page) >= 2) if width >= 1000 else (columns(page) == 1)

    page.get_by_label("Send window").fill("09:75-19:00")
    page.get_by_label("Lead days").fill("3")
    page.get_by_label("Unreachable after").fill("5")
    page.get_by_label("Name", exact=True).fill("Alpha Typed")
    page.get_by_role("button", name="Save a").click()

    expect(page.get_by_role("alert")).to_contain_text("Not saved: 2 settings need a change")
    window = page.get_by_label("Send window")
    expect(window).to_have_value("09:75-19:00")
    expect(window).to_have_attribute("aria-invalid", "true")
    expect(window).to_have_accessible_description(
        "Local hours, HH:MM-HH:MM within 08:00-20:00. "
        "Not a time of day (hours 00 to 23, minutes 00 to 59)."
    )
    unreachable = page.get_by_label("Unreachable after")
    expect(unreachable).to_have_value("5")
    expect(page.locator(".setting.invalid .field-error")).to_have_count(2)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Alpha Typed")
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=f"/tmp/stores-{width}.png", full_page=True)
