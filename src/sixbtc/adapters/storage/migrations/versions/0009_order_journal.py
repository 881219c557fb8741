"""order-intent journal: order states of the venue port (INTENT → SENT → OPEN ...), venue ids,
trigger prices, the signal candle of each order; venue fills de-duplicated by trade id; time
without a protective stop per position; funding per trade

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_OLD_TO_NEW = (("NEW", "intent"), ("CANCELLED", "canceled"), ("FILLED", "filled"))


def upgrade() -> None:
    with op.batch_alter_table('orders') as b:
        b.add_column(sa.Column('venue_order_id', sa.String(length=64), nullable=True))
        b.add_column(sa.Column('trigger_price', sa.Float(), nullable=True))
        b.add_column(sa.Column('filled_qty', sa.Float(), nullable=True))
        b.add_column(sa.Column('signal_ms', sa.BigInteger(), nullable=True))
        b.add_column(sa.Column('acked_ms', sa.BigInteger(), nullable=True))
        b.add_column(sa.Column('detail', sa.Text(), nullable=True))
    for old, new in _OLD_TO_NEW:
        op.execute(sa.text("UPDATE orders SET status = :new WHERE status = :old").bindparams(old=old, new=new))
    with op.batch_alter_table('positions') as b:
        b.add_column(sa.Column('signal_ms', sa.BigInteger(), nullable=True))
        b.add_column(sa.Column('entry_fill_ms', sa.BigInteger(), nullable=True))
        b.add_column(sa.Column('stop_ack_ms', sa.BigInteger(), nullable=True))
        b.add_column(sa.Column('no_stop_ms', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('trades') as b:
        b.add_column(sa.Column('funding_usd', sa.Float(), nullable=True))
    op.create_table('fills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('trade_id', sa.String(length=64), nullable=False),
    sa.Column('venue_order_id', sa.String(length=64), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=True),
    sa.Column('strategy_id', sa.Integer(), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('qty', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('fee_usd', sa.Float(), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('liquidation', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mode', 'trade_id', name='uq_fills_mode_trade_id')
    )
    op.create_index('ix_fills_account_ts', 'fills', ['account', 'ts_ms'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fills_account_ts', table_name='fills')
    op.drop_table('fills')
    with op.batch_alter_table('trades') as b:
        b.drop_column('funding_usd')
    with op.batch_alter_table('positions') as b:
        for col in ('no_stop_ms', 'stop_ack_ms', 'entry_fill_ms', 'signal_ms'):
            b.drop_column(col)
    for old, new in _OLD_TO_NEW:
        op.execute(sa.text("UPDATE orders SET status = :old WHERE status = :new").bindparams(old=old, new=new))
    op.execute(sa.text("UPDATE orders SET status = 'CANCELLED' WHERE status NOT IN ('NEW', 'FILLED', 'CANCELLED')"))
    with op.batch_alter_table('orders') as b:
        for col in ('detail', 'acked_ms', 'signal_ms', 'filled_qty', 'trigger_price', 'venue_order_id'):
            b.drop_column(col)
