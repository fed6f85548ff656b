"""the review page's counts and campaign groups read from covering indexes (PostgreSQL: INCLUDE the expected
spend and sales changes, so the per-status/reason counts and the per-campaign sums are index-only scans)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:35:00

"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

DELTAS = ['expected_spend_delta', 'expected_sales_delta']


def upgrade():
    op.create_index('ix_suggestions_summary', 'suggestions', ['seller_id', 'kind', 'status', 'reason', 'marketplace'],
                    postgresql_include=DELTAS)
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'],
                    postgresql_include=DELTAS)


def downgrade():
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'])
    op.drop_index('ix_suggestions_summary', table_name='suggestions')
