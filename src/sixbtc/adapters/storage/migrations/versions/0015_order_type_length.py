"""orders.order_type wide enough for every order type ('take_profit_market' is 18 characters)

PostgreSQL enforces VARCHAR lengths (SQLite does not): with VARCHAR(16) every take-profit
order of the executor failed there. Found by the multi-process acceptance test on PostgreSQL.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 20:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as b:
        b.alter_column('order_type', existing_type=sa.String(length=16), type_=sa.String(length=24),
                       existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('orders') as b:
        b.alter_column('order_type', existing_type=sa.String(length=24), type_=sa.String(length=16),
                       existing_nullable=False)
