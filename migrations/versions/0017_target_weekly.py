"""bid inputs: sp_target_daily summed per target and week (kept by the ingest on PostgreSQL), filled from the days

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sp_target_weekly',
    sa.Column('profile_id', sa.BigInteger(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('profile_id', 'week_start', 'target_id', name=op.f('pk_sp_target_weekly'))
    )
    if op.get_bind().dialect.name == 'postgresql':  # the only dialect that keeps it (models.facts.WEEKLY_DIALECTS)
        op.execute("""
            INSERT INTO sp_target_weekly (profile_id, week_start, target_id, impressions, clicks, cost, orders, sales)
            SELECT profile_id, date_trunc('week', date::timestamp)::date, target_id, sum(impressions), sum(clicks),
                   sum(cost), sum(orders), sum(sales)
            FROM sp_target_daily GROUP BY 1, 2, 3""")
        op.execute("ANALYZE sp_target_weekly")  # the inputs' first plans see its size, not an empty table


def downgrade():
    op.drop_table('sp_target_weekly')
