"""the librarian's workspace: each subscriber's delivery log and feedback log

Revision ID: 0007_workspace
Revises: 0006_briefing
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007_workspace'
down_revision = '0006_briefing'
branch_labels = None
depends_on = None


def _s(n):
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    op.create_table('delivery_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', _s(200), nullable=False),
    sa.Column('subscriber_id', _s(36), nullable=False),
    sa.Column('organisation_id', _s(36), nullable=False),
    sa.Column('kind', _s(20), nullable=False),
    sa.Column('period', _s(40), nullable=False),
    sa.Column('item_ids', sa.JSON(), nullable=False),
    sa.Column('item_titles', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'))
    for column in ('digest_id', 'subscriber_id', 'organisation_id', 'sent_at'):
        op.create_index(op.f(f'ix_delivery_log_{column}'), 'delivery_log', [column], unique=False)
    op.create_table('feedback_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', _s(36), nullable=False),
    sa.Column('organisation_id', _s(36), nullable=False),
    sa.Column('item_id', _s(500), nullable=False),
    sa.Column('digest_id', _s(200), nullable=False),
    sa.Column('verdict', _s(20), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'))
    for column in ('subscriber_id', 'organisation_id', 'occurred_at'):
        op.create_index(op.f(f'ix_feedback_log_{column}'), 'feedback_log', [column], unique=False)


def downgrade() -> None:
    op.drop_table('feedback_log')
    op.drop_table('delivery_log')
