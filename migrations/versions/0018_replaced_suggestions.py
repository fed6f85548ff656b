"""suggestions written faster: a newer run deletes the pending ones it replaces instead of marking them superseded
(the rows marked before go too); the (seller_id, status) index, a prefix of ix_suggestions_review_campaign, and the
unused entity_ref index are dropped; the (profile_id, entity_id) index leaves out pending rows

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


DECIDED = sa.text("status <> 'pending'")


def upgrade():
    op.execute("DELETE FROM suggestions WHERE status = 'superseded'")
    op.drop_index('ix_suggestions_seller_status', table_name='suggestions')
    op.drop_index('ix_suggestions_ref', table_name='suggestions')
    op.drop_index('ix_suggestions_entity', table_name='suggestions')
    op.create_index('ix_suggestions_entity', 'suggestions', ['profile_id', 'entity_id'], postgresql_where=DECIDED,
                    sqlite_where=DECIDED)


def downgrade():
    # The deleted rows are not restored: nobody had decided them, and each run's `superseded` still counts them.
    op.drop_index('ix_suggestions_entity', table_name='suggestions')
    op.create_index('ix_suggestions_entity', 'suggestions', ['profile_id', 'entity_id'])
    op.create_index('ix_suggestions_ref', 'suggestions', ['seller_id', 'kind', 'entity_ref'])
    op.create_index('ix_suggestions_seller_status', 'suggestions', ['seller_id', 'status'])
