"""suggestions every kind can use: a text entity reference, the marketplace and a JSON payload

Today's bid rows keep their meaning: `entity_ref` is their Ads keyword/target id as text and `marketplace`
their profile's marketplace. The Ads ids become optional (a promotion names an ASIN, not an Ads entity).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

suggestions = sa.table('suggestions', sa.column('seller_id', sa.Integer()), sa.column('profile_id', sa.BigInteger()),
                       sa.column('entity_id', sa.BigInteger()), sa.column('entity_ref', sa.String(64)),
                       sa.column('marketplace', sa.String(32)), sa.column('payload', sa.JSON()))
profiles = sa.table('ads_profiles', sa.column('connection_id', sa.Integer()), sa.column('profile_id', sa.BigInteger()),
                    sa.column('marketplace_id', sa.String(32)))
connections = sa.table('connections', sa.column('id', sa.Integer()), sa.column('seller_id', sa.Integer()))


def upgrade():
    with op.batch_alter_table('suggestions') as batch:
        batch.add_column(sa.Column('entity_ref', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('marketplace', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('payload', sa.JSON(), nullable=True))
    marketplace = (
        sa.select(sa.func.max(profiles.c.marketplace_id))
        .select_from(profiles.join(connections, connections.c.id == profiles.c.connection_id))
        .where(connections.c.seller_id == suggestions.c.seller_id,
               profiles.c.profile_id == suggestions.c.profile_id)
        .scalar_subquery()
    )
    op.execute(suggestions.update().values(entity_ref=sa.cast(suggestions.c.entity_id, sa.String(64)),
                                           marketplace=marketplace, payload={}))
    with op.batch_alter_table('suggestions') as batch:
        batch.alter_column('entity_ref', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('payload', existing_type=sa.JSON(), nullable=False)
        batch.alter_column('profile_id', existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column('entity_id', existing_type=sa.BigInteger(), nullable=True)
        batch.create_index('ix_suggestions_ref', ['seller_id', 'kind', 'entity_ref'], unique=False)


def downgrade():
    op.execute(sa.delete(suggestions).where(suggestions.c.entity_id.is_(None)))  # kinds the old schema can't hold
    with op.batch_alter_table('suggestions') as batch:
        batch.drop_index('ix_suggestions_ref')
        batch.alter_column('entity_id', existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column('profile_id', existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column('payload')
        batch.drop_column('marketplace')
        batch.drop_column('entity_ref')
