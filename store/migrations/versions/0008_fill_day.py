"""fill day: the ready notice and the not-picked-up item, each claimed once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ready_notice_at', store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('not_picked_up_at', store.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.drop_column('not_picked_up_at')
        batch_op.drop_column('ready_notice_at')
