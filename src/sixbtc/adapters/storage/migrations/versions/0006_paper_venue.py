"""paper venue: accounts, orders, positions, fills, funding, leverage, agents, feed progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:08:04
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('paper_accounts',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('is_master', sa.Boolean(), nullable=False),
    sa.Column('cash_usd', sa.Float(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('paper_agents',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('valid_until_ms', sa.BigInteger(), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('paper_clock',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('now_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('paper_fills',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('trade_id', sa.String(length=32), nullable=False),
    sa.Column('venue_order_id', sa.BigInteger(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('qty', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('fee_usd', sa.Float(), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('liquidation', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('trade_id')
    )
    with op.batch_alter_table('paper_fills', schema=None) as batch_op:
        batch_op.create_index('ix_paper_fills_account_ts', ['account', 'ts_ms'], unique=False)

    op.create_table('paper_funding',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('amount_usd', sa.Float(), nullable=False),
    sa.Column('position_qty', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account', 'symbol', 'ts_ms', name='uq_paper_funding_settlement')
    )
    op.create_table('paper_leverage',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('leverage', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'symbol')
    )
    op.create_table('paper_markets',
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('mark_price', sa.Float(), nullable=True),
    sa.Column('open_ms', sa.BigInteger(), nullable=False),
    sa.Column('closed_ms', sa.BigInteger(), nullable=False),
    sa.Column('funding_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('symbol')
    )
    op.create_table('paper_orders',
    sa.Column('venue_order_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('order_type', sa.String(length=24), nullable=False),
    sa.Column('qty', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('trigger_price', sa.Float(), nullable=True),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('notional_usd', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filled_qty', sa.Float(), nullable=False),
    sa.Column('avg_fill_price', sa.Float(), nullable=True),
    sa.Column('placed_ms', sa.BigInteger(), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('venue_order_id'),
    sa.UniqueConstraint('account', 'client_order_id', name='uq_paper_orders_account_cloid')
    )
    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.create_index('ix_paper_orders_status', ['status'], unique=False)

    op.create_table('paper_positions',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('qty', sa.Float(), nullable=False),
    sa.Column('entry_price', sa.Float(), nullable=False),
    sa.Column('leverage', sa.Float(), nullable=False),
    sa.Column('opened_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'symbol')
    )


def downgrade() -> None:
    op.drop_table('paper_positions')
    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_orders_status')

    op.drop_table('paper_orders')
    op.drop_table('paper_markets')
    op.drop_table('paper_leverage')
    op.drop_table('paper_funding')
    with op.batch_alter_table('paper_fills', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_fills_account_ts')

    op.drop_table('paper_fills')
    op.drop_table('paper_clock')
    op.drop_table('paper_agents')
    op.drop_table('paper_accounts')
