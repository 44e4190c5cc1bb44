"""check-in creation pages by (anchor date, id) through its index

The pending-check-in index held the anchor date only: a page of candidates after (date, id)
read and sorted every pending enrollment of that date (88 ms a page with 30,000 anchored on
one day, a check-in creation pass quadratic in them). With the id in the index, a page is an
index range scan from the last key (1.6 ms).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PENDING = "checkin_anchor_date IS NULL OR checkin_anchor_date <> anchor_date"


def _create(columns: list[str]) -> None:
    op.create_index(
        'ix_enrollments_checkin_pending',
        'enrollments',
        columns,
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def upgrade() -> None:
    op.drop_index('ix_enrollments_checkin_pending', table_name='enrollments')
    _create(['anchor_date', 'id'])


def downgrade() -> None:
    op.drop_index('ix_enrollments_checkin_pending', table_name='enrollments')
    _create(['anchor_date'])
