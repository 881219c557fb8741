"""near misses: genomes of strategies rejected at the multiple-testing gate (evolution parents)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('near_misses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('strategy_name', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('genome', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('dsr', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('strategy_name')
    )
    with op.batch_alter_table('near_misses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_near_misses_dsr'), ['dsr'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('near_misses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_near_misses_dsr'))
    op.drop_table('near_misses')
