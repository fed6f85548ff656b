"""Sales & Traffic by ASIN keeps each child's parent ASIN, so the promotions' lift sees siblings' losses
(cannibalisation); rows stored before stay NULL (read as their own parent)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLES = ('sales_traffic_asin_daily', 'sales_traffic_asin_weekly')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('parent_asin', sa.String(length=16), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('parent_asin')
