"""the review page's counts read from the campaign index (PostgreSQL: it also INCLUDEs kind, reason and marketplace),
so the summary index goes: one index fewer for every suggestion a run writes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:40:00

"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

DELTAS = ['expected_spend_delta', 'expected_sales_delta']


def upgrade():
    op.drop_index('ix_suggestions_summary', table_name='suggestions')
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'],
                    postgresql_include=[*DELTAS, 'kind', 'reason', 'marketplace'])


def downgrade():
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'],
                    postgresql_include=DELTAS)
    op.create_index('ix_suggestions_summary', 'suggestions', ['seller_id', 'kind', 'status', 'reason', 'marketplace'],
                    postgresql_include=DELTAS)
