"""scheduler: enrollments.checkin_anchor_date and the partial index of pending check-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PENDING = "checkin_anchor_date IS NULL OR checkin_anchor_date <> anchor_date"


def upgrade() -> None:
    with op.batch_alter_table('enrollments') as batch:
        batch.add_column(sa.Column('checkin_anchor_date', sa.Date(), nullable=True))
    # Enrollments that already have a check-in for their current anchor are not pending.
    op.execute(
        "UPDATE enrollments SET checkin_anchor_date = anchor_date WHERE EXISTS ("
        " SELECT 1 FROM checkins WHERE checkins.enrollment_id = enrollments.id"
        " AND checkins.anchor_date = enrollments.anchor_date)"
    )
    op.create_index(
        'ix_enrollments_checkin_pending',
        'enrollments',
        ['anchor_date'],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index('ix_enrollments_checkin_pending', table_name='enrollments')
    with op.batch_alter_table('enrollments') as batch:
        batch.drop_column('checkin_anchor_date')
