"""paper_clock.revision: a counter bumped by every writing transaction of the paper venue

The paper venue keeps its book in memory between calls and reloads it only when the revision
it read at the start of a call differs from the one it cached (another process, e.g.
``sixbtc emergency-stop``, changed the venue in between). The clock row (id 1) is created
here so every venue transaction can lock and read it.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02 20:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('paper_clock') as b:
        b.add_column(sa.Column('revision', sa.BigInteger(), nullable=False, server_default='0'))
    op.execute("INSERT INTO paper_clock (id, now_ms, revision) SELECT 1, 0, 0 "
               "WHERE NOT EXISTS (SELECT 1 FROM paper_clock WHERE id = 1)")


def downgrade() -> None:
    with op.batch_alter_table('paper_clock') as b:
        b.drop_column('revision')
