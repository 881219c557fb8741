"""executor state: re-sendable NEW orders, resume points, the trading lease

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timeframe', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('leg', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('notional_usd', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('sl_pct', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('tp_pct', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
    op.create_table('executor_cursors',
    sa.Column('strategy_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('bar_ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('strategy_id')
    )
    op.create_table('leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=300), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('leases')
    op.drop_table('executor_cursors')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for name in ('not_before', 'tp_pct', 'sl_pct', 'notional_usd', 'leg', 'timeframe'):
            batch_op.drop_column(name)
