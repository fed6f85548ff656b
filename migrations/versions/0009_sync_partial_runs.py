"""sync runs end partial: a notice per run, since-when a report waits on a throttling Amazon; the profiles a
suggestion run skipped for incomplete data; Ads profiles Amazon no longer lists

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('notice', sa.Text(), nullable=True))
    with op.batch_alter_table('sync_reports') as batch:
        batch.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.add_column(sa.Column('notice', sa.Text(), nullable=True))
    with op.batch_alter_table('ads_profiles') as batch:
        batch.add_column(sa.Column('accessible', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('ads_profiles') as batch:
        batch.drop_column('accessible')
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_column('notice')
    with op.batch_alter_table('sync_reports') as batch:
        batch.drop_column('waiting_since')
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('notice')
