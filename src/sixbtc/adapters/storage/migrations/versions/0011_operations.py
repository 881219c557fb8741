"""operations: role heartbeats, pipeline metrics snapshots, alerts

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('role_heartbeats',
    sa.Column('worker', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('worker')
    )
    op.create_index('ix_role_heartbeats_role', 'role_heartbeats', ['role'], unique=False)
    op.create_table('pipeline_metrics_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pipeline_metrics_snapshots_ts', 'pipeline_metrics_snapshots', ['ts'], unique=False)
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('sent', sa.Boolean(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_alerts_kind_key_ts', 'alerts', ['kind', 'key', 'ts'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_alerts_kind_key_ts', table_name='alerts')
    op.drop_table('alerts')
    op.drop_index('ix_pipeline_metrics_snapshots_ts', table_name='pipeline_metrics_snapshots')
    op.drop_table('pipeline_metrics_snapshots')
    op.drop_index('ix_role_heartbeats_role', table_name='role_heartbeats')
    op.drop_table('role_heartbeats')
