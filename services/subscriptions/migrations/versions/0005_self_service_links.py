"""self-service links: each subscriber's link key (opaque tokens), the mail outbox of links asked for

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import hashlib

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _link_key(subscriber_id: str) -> str:
    """links.link_key, as it is today (a migration does not follow later code)."""
    return hashlib.sha256(b"horizon.self-service.key\x1f" + subscriber_id.encode("utf-8")).digest()[:16].hex()


def upgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    conn = op.get_bind()
    subscribers = sa.table('subscribers', sa.column('id'), sa.column('link_key'))
    for (subscriber_id,) in conn.execute(sa.select(subscribers.c.id)).all():
        conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id).values(link_key=_link_key(subscriber_id)))
    op.create_index(op.f('ix_subscribers_link_key'), 'subscribers', ['link_key'], unique=True)
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_mail_outbox_subscriber_id'), 'mail_outbox', ['subscriber_id'], unique=False)
    op.create_index(op.f('ix_mail_outbox_sent_at'), 'mail_outbox', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_mail_outbox_sent_at'), table_name='mail_outbox')
    op.drop_index(op.f('ix_mail_outbox_subscriber_id'), table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_index(op.f('ix_subscribers_link_key'), table_name='subscribers')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('link_key')
