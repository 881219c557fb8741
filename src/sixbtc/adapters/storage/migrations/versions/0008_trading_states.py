"""trading states (ACTIVE / REDUCING / HALTED per scope) and equity samples of the kill switches

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 10:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trading_states',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    op.create_table('equity_samples',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('equity_usd', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_equity_samples_scope_ts', 'equity_samples', ['scope', 'ts'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_equity_samples_scope_ts', table_name='equity_samples')
    op.drop_table('equity_samples')
    op.drop_table('trading_states')
