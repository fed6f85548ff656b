"""campaign settings: a campaign's own objective beside its own target ACoS (campaign_target_acos becomes
campaign_settings; either may be empty)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_COLUMNS = "seller_id, profile_id, campaign_id, target_acos, updated_at, updated_by_id"


def _create(name: str, *, nullable_acos: bool, objective: bool) -> None:
    op.create_table(
        name,
        sa.Column('seller_id', sa.Integer(), nullable=False),
        sa.Column('profile_id', sa.BigInteger(), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('target_acos', sa.Numeric(precision=7, scale=4), nullable=nullable_acos),
        *([sa.Column('objective', sa.String(length=8), nullable=True)] if objective else []),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f(f'fk_{name}_seller_id_sellers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f(f'fk_{name}_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('seller_id', 'profile_id', 'campaign_id', name=op.f(f'pk_{name}')),
    )


def upgrade():
    _create('campaign_settings', nullable_acos=True, objective=True)
    op.execute(f"INSERT INTO campaign_settings ({_COLUMNS}) SELECT {_COLUMNS} FROM campaign_target_acos")
    op.drop_table('campaign_target_acos')


def downgrade():
    _create('campaign_target_acos', nullable_acos=False, objective=False)
    op.execute(f"INSERT INTO campaign_target_acos ({_COLUMNS}) SELECT {_COLUMNS} FROM campaign_settings "
               "WHERE target_acos IS NOT NULL")
    op.drop_table('campaign_settings')
