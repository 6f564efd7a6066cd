"""briefing: urgent items that matched nobody (and where librarians sent them), full-text requests

Revision ID: 0006_briefing
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006_briefing'
down_revision = '0005'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('unrouted_items',
    sa.Column('item_id', S(length=300), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('url', S(length=2000), nullable=False),
    sa.Column('source_title', S(length=300), nullable=False),
    sa.Column('evidence_type', S(length=40), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item_id')
    )
    op.create_index(op.f('ix_unrouted_items_noticed_at'), 'unrouted_items', ['noticed_at'], unique=False)
    op.create_table('unrouted_routings',
    sa.Column('item_id', S(length=300), nullable=False),
    sa.Column('organisation_id', S(length=36), nullable=False),
    sa.Column('routed_by', S(length=320), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=False),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item_id', 'organisation_id')
    )
    op.create_table('full_text_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', S(length=64), nullable=False),
    sa.Column('organisation_id', S(length=36), nullable=False),
    sa.Column('subscriber_id', S(length=36), nullable=False),
    sa.Column('item_id', S(length=300), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('url', S(length=2000), nullable=False),
    sa.Column('status', S(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index(op.f('ix_full_text_requests_organisation_id'), 'full_text_requests', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_full_text_requests_subscriber_id'), 'full_text_requests', ['subscriber_id'], unique=False)
    op.create_index(op.f('ix_full_text_requests_status'), 'full_text_requests', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('full_text_requests')
    op.drop_table('unrouted_routings')
    op.drop_table('unrouted_items')
