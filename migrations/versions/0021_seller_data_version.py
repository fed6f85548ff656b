"""sellers.data_version: bumped with every ingest and rollup refresh, so the dashboard's remembered sums know
when a seller's figures changed

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sellers', sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('sellers') as batch:
        batch.drop_column('data_version')
