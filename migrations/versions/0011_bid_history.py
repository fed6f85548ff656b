"""bid history: the bid in force per target and day (ours, console, inherited); products' referral and FBA fees

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bid_history',
        sa.Column('profile_id', sa.BigInteger(), nullable=False),
        sa.Column('target_id', sa.BigInteger(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('seller_id', sa.Integer(), nullable=False),
        sa.Column('bid', sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_bid_history_seller_id_sellers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('profile_id', 'target_id', 'valid_from', name=op.f('pk_bid_history')),
    )
    with op.batch_alter_table('bid_history') as batch:
        batch.create_index(batch.f('ix_bid_history_seller_id'), ['seller_id'], unique=False)
    with op.batch_alter_table('products') as batch:
        batch.add_column(sa.Column('referral_fee_pct', sa.Numeric(precision=7, scale=4), nullable=True))
        batch.add_column(sa.Column('fba_fee', sa.Numeric(precision=14, scale=4), nullable=True))


def downgrade():
    with op.batch_alter_table('products') as batch:
        batch.drop_column('fba_fee')
        batch.drop_column('referral_fee_pct')
    with op.batch_alter_table('bid_history') as batch:
        batch.drop_index(batch.f('ix_bid_history_seller_id'))
    op.drop_table('bid_history')
