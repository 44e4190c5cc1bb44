"""The admin's Stores page: every setting of the admin's stores, checked by the same rules as
`create-store` (store/store_settings.py).

A refused save renders the page again with what the admin typed and each error next to its
field; a good one is saved, audited and redirected back (so a reload does not post again).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot.access import admin_required, login_required, staff_member
from bot.extensions import db_session
from bot.workspace import bp
from bot.workspace.forms import EmptyForm
from store import store_settings, workspace
from store.audit import record_audit
from store.models import Store


@bp.route("/admin/stores", methods=["GET"])
@login_required
@admin_required
def admin_stores() -> str:
    return _page(None)


@bp.post("/admin/stores/<int:store_id>")
@login_required
@admin_required
def admin_store_update(store_id: int) -> Response | tuple[str, int]:
    """Save every setting of one of the admin's stores, or show what is wrong with them."""
    session = db_session()
    store = _my_store(store_id)
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("workspace.admin_stores"))
    typed = {name: request.form.get(name) for name in store_settings.FIELD_NAMES}
    current = store_settings.settings_of(store)
    try:
        values = store_settings.check_store_settings(typed, current, region=store.region)
    except store_settings.StoreSettingsError as error:
        kept = {
            **store_settings.as_text(current),
            **{k: v for k, v in typed.items() if v is not None},
        }
        return _page(_Refused(store.id, kept, error.errors)), 400
    changed = sorted(
        name
        for name in store_settings.FIELD_NAMES
        if getattr(values, name) != getattr(current, name)
    )
    store_settings.apply_store_settings(store, values)
    record_audit(
        session,
        "update_store",
        actor="user",
        user_id=staff_member().id,
        store_id=store.id,
        target=store.code,
        detail={"changed": changed},
    )
    session.commit()
    flash(f"Store {store.code} updated.", "ok")
    return redirect(url_for("workspace.admin_stores"))


class _Refused:
    """A save that was refused: the store, what was typed and what is wrong, per field."""

    def __init__(self, store_id: int, typed: dict[str, str], errors: dict[str, str]) -> None:
        self.store_id, self.typed, self.errors = store_id, typed, errors


def _page(refused: _Refused | None) -> str:
    stores = workspace.list_stores(db_session(), staff_member().store_ids)
    values = {s.id: store_settings.as_text(store_settings.settings_of(s)) for s in stores}
    errors: dict[int, dict[str, str]] = {}
    if refused is not None:
        values[refused.store_id] = refused.typed
        errors[refused.store_id] = refused.errors
    return render_template(
        "workspace/admin_stores.html",
        stores=stores,
        fields=store_settings.FIELDS,
        values=values,
        errors=errors,
        form=EmptyForm(),
    )


def _my_store(store_id: int) -> Store:
    """One of the signed-in admin's stores; another store's id is simply not found."""
    stores = workspace.list_stores(db_session(), staff_member().store_ids)
    store = next((s for s in stores if s.id == store_id), None)
    if store is None:
        abort(404)
    return store
