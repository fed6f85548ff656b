"""the review page's orders sorted from the campaign index (PostgreSQL: it now also INCLUDEs direction and the
values a change is computed from), so the two order indexes go: each cost every run's new rows a random insert

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

COUNTED = ['expected_spend_delta', 'expected_sales_delta', 'kind', 'reason', 'marketplace']
CHANGE_RANK = "coalesce(abs(coalesce(approved_value, proposed_value) - current_value) / nullif(current_value, 0), -1)"
SPEND_RANK = "coalesce(abs(expected_spend_delta), -1)"


def upgrade():
    op.drop_index('ix_suggestions_review_change', table_name='suggestions')
    op.drop_index('ix_suggestions_review_spend', table_name='suggestions')
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'],
                    postgresql_include=[*COUNTED, 'direction', 'current_value', 'proposed_value', 'approved_value'])


def downgrade():
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'],
                    postgresql_include=COUNTED)
    op.create_index('ix_suggestions_review_spend', 'suggestions',
                    ['seller_id', 'status', sa.text(f'({SPEND_RANK}) DESC'), 'id'])
    op.create_index('ix_suggestions_review_change', 'suggestions',
                    ['seller_id', 'status', sa.text(f'({CHANGE_RANK}) DESC'), 'id'])
