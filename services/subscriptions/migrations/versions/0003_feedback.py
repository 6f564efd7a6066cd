"""feedback: items a subscriber marked useful or not relevant, kept on the profile

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('liked', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('disliked', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_column('disliked')
        batch_op.drop_column('liked')
