"""session version, wider audit target

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing users start at version 1; the default is dropped afterwards so the schema
    # matches the models (the application always sets it).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_version', server_default=None)
    # An audit target may be an email address (up to 254 characters).
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('target', existing_type=sa.String(length=80), type_=sa.String(length=255), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('target', existing_type=sa.String(length=255), type_=sa.String(length=80), existing_nullable=True)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
