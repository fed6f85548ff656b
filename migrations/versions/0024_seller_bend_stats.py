"""suggestion_runs.bend_stats: the sums a promotion run's own promotions give the demand curve's bend, which the
agency's other sellers' runs start from

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.add_column(sa.Column('bend_stats', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_column('bend_stats')
