"""campaign target ACoS overrides

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_target_acos',
        sa.Column('seller_id', sa.Integer(), nullable=False),
        sa.Column('profile_id', sa.BigInteger(), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('target_acos', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_campaign_target_acos_seller_id_sellers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_campaign_target_acos_updated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('seller_id', 'profile_id', 'campaign_id', name=op.f('pk_campaign_target_acos')),
    )


def downgrade():
    op.drop_table('campaign_target_acos')
