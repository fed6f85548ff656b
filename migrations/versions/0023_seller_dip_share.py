"""suggestion_runs.dip_share and dip_share_variance: a promotion run's own read of how much of a promotion's extra
units its dip takes back, which the agency's other sellers' runs start from

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 23:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.add_column(sa.Column('dip_share', sa.Float(), nullable=True))
        batch.add_column(sa.Column('dip_share_variance', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_column('dip_share_variance')
        batch.drop_column('dip_share')
