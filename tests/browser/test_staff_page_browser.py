"""The admin's Staff page in headless Chromium: the list and the form are spaced apart and
nothing spills sideways, at a desktop and a phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from store.models import Role
from tests.factories import make_store
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

GAPS = """() => {
  const table = document.querySelector('main table').getBoundingClientRect();
  const card = document.querySelector('main .card').getBoundingClientRect();
  const boxes = 'main form.stack > input:not([type=hidden]), main form.stack > select';
  const fields = [...document.querySelectorAll(boxes)].map(e => e.getBoundingClientRect());
  return {
    below_table: card.top - table.bottom,
    page_width: document.documentElement.scrollWidth,
    window_width: window.innerWidth,
    narrowest_field: Math.min(...fields.map(r => r.width)),
    card_width: card.width,
    // Each label (but the first) against the box above it and the box below it.
    label_gaps: [...document.querySelectorAll('main form.stack > label')].slice(1).map(label => {
      const above = label.previousElementSibling.getBoundingClientRect();
      const below = label.nextElementSibling.getBoundingClientRect();
      const own = label.getBoundingClientRect();
      return [own.top - above.bottom, below.top - own.bottom];
    }),
  };
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_staff_page_is_spaced_and_fits(page: Page, session: Session, width: int) -> None:
    store = make_store(session, "a")
    make_user(session, "admin@a.org", Role.ADMIN, store)
    for n in range(3):
        make_user(session, f"technician-with-a-long-address-{n}@a.org", Role.TECHNICIAN, store)
    session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill("admin@a.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/admin/users")
    gaps = page.evaluate(GAPS)
    assert gaps["below_table"] >= 16, gaps
    assert gaps["page_width"] <= gaps["window_width"], gaps
    assert gaps["narrowest_field"] >= gaps["card_width"] * 0.6, gaps
    assert gaps["label_gaps"] and all(above > below for above, below in gaps["label_gaps"]), gaps
