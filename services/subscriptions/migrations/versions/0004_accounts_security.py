"""accounts security: server-side web sessions, log-in throttling, token expiry and last use;
single-line fields cleaned of control and bidi characters the validation now refuses

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import unicodedata
from datetime import timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: Tokens made before every token had an expiry get the default lifetime from their creation.
TOKEN_DAYS = 90
_BIDI = {ord(c): None for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}


def _one_line(value):
    """A stored value as the new validation accepts it: controls become spaces, bidi controls go."""
    if not isinstance(value, str):
        return value
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value.translate(_BIDI))
    return " ".join(text.split()) if text != value else value


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('librarian_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['librarian_id'], ['librarians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_web_sessions_librarian_id'), 'web_sessions', ['librarian_id'], unique=False)
    op.create_index(op.f('ix_web_sessions_last_seen_at'), 'web_sessions', ['last_seen_at'], unique=False)
    op.create_table('login_attempts',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    _backfill_token_expiry()
    _clean_single_line_fields()


def _backfill_token_expiry() -> None:
    conn = op.get_bind()
    tokens = sa.table('api_tokens', sa.column('id'), sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('expires_at', sa.DateTime(timezone=True)))
    for token_id, created in conn.execute(sa.select(tokens.c.id, tokens.c.created_at).where(tokens.c.expires_at.is_(None))):
        conn.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=created + timedelta(days=TOKEN_DAYS)))


def _clean_single_line_fields() -> None:
    conn = op.get_bind()
    for name, key, columns in (("subscribers", "id", ("name", "email", "role")), ("librarians", "id", ("name",)),
                               ("organisations", "id", ("name",))):
        table = sa.table(name, sa.column(key), *(sa.column(c) for c in columns))
        for row in conn.execute(sa.select(table)).mappings():
            changed = {c: _one_line(row[c]) for c in columns if _one_line(row[c]) != row[c]}
            if changed:
                conn.execute(table.update().where(table.c[key] == row[key]).values(**changed))
    lists = ("interests", "topics", "examples", "exclude", "sources")
    profiles = sa.table('profiles', sa.column('subscriber_id'), *(sa.column(c, sa.JSON) for c in lists))
    for row in conn.execute(sa.select(profiles)).mappings():
        changed = {c: [_one_line(v) for v in row[c]] for c in lists
                   if isinstance(row[c], list) and any(_one_line(v) != v for v in row[c])}
        if changed:
            conn.execute(profiles.update().where(profiles.c.subscriber_id == row['subscriber_id']).values(**changed))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    op.drop_table('login_attempts')
    op.drop_index(op.f('ix_web_sessions_last_seen_at'), table_name='web_sessions')
    op.drop_index(op.f('ix_web_sessions_librarian_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
