"""dashboard: daily profile rollup, indexes for the campaign, target and search-term pages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dash_profile_daily',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.BigInteger(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('currency_code', sa.String(length=3), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('seller_id', 'profile_id', 'date', name=op.f('pk_dash_profile_daily'))
    )
    op.create_index('ix_sp_target_daily_profile_target_date', 'sp_target_daily',
                    ['profile_id', 'target_id', 'date'], unique=False)
    op.create_index('ix_sp_campaign_daily_profile_campaign_date', 'sp_campaign_daily',
                    ['profile_id', 'campaign_id', 'date'], unique=False)
    op.create_index('ix_sp_search_term_daily_profile_campaign_date', 'sp_search_term_daily',
                    ['profile_id', 'campaign_id', 'date'], unique=False)
    # Facts synced before this revision get their rollup now; later syncs call refresh_rollups.
    op.execute("""
        INSERT INTO dash_profile_daily (seller_id, profile_id, date, currency_code,
                                        impressions, clicks, cost, orders, units, sales)
        SELECT c.seller_id, f.profile_id, f.date, p.currency_code,
               SUM(f.impressions), SUM(f.clicks), SUM(f.cost), SUM(f.orders), SUM(f.units), SUM(f.sales)
        FROM sp_campaign_daily f
        JOIN ads_profiles p ON p.profile_id = f.profile_id
        JOIN connections c ON c.id = p.connection_id AND c.api = 'ads'
        GROUP BY c.seller_id, f.profile_id, f.date, p.currency_code
    """)


def downgrade():
    op.drop_index('ix_sp_search_term_daily_profile_campaign_date', table_name='sp_search_term_daily')
    op.drop_index('ix_sp_campaign_daily_profile_campaign_date', table_name='sp_campaign_daily')
    op.drop_index('ix_sp_target_daily_profile_target_date', table_name='sp_target_daily')
    op.drop_table('dash_profile_daily')
