"""market regimes: breakout vs reversal test per coin (SPEC §3.1)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('market_regimes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('timeframe', sa.String(length=8), nullable=False),
    sa.Column('regime', sa.String(length=16), nullable=False),
    sa.Column('breakout_metric', sa.Float(), nullable=False),
    sa.Column('reversal_metric', sa.Float(), nullable=False),
    sa.Column('n_trades', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_market_regimes_symbol_tf_time', 'market_regimes',
                    ['symbol', 'timeframe', 'computed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_market_regimes_symbol_tf_time', table_name='market_regimes')
    op.drop_table('market_regimes')
