"""sync runs end partial: a notice per run, since-when a report waits on a throttling Amazon; the profiles a
suggestion run skipped for incomplete data

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('notice', sa.Text(), nullable=True))
    with op.batch_alter_table('sync_reports') as batch:
        batch.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.add_column(sa.Column('notice', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_column('notice')
    with op.batch_alter_table('sync_reports') as batch:
        batch.drop_column('waiting_since')
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('notice')
