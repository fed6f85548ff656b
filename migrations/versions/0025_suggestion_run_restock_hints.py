"""suggestion_runs.restock_hints: per ASIN a promotion run skipped because its restocks leave it nearly out anyway,
the reorder level that would let a promotion through (the Promotions page's "Reorder earlier" table)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 04:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.add_column(sa.Column('restock_hints', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_column('restock_hints')
