"""the review page's orders indexed per seller and status (largest change, spend effect, campaign)

With 100,000 pending suggestions the first page is read in index order instead of sorting every row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

CHANGE_RANK = "coalesce(abs(coalesce(approved_value, proposed_value) - current_value) / nullif(current_value, 0), -1)"
SPEND_RANK = "coalesce(abs(expected_spend_delta), -1)"


def upgrade():
    op.create_index('ix_suggestions_review_change', 'suggestions',
                    ['seller_id', 'status', sa.text(f'({CHANGE_RANK}) DESC'), 'id'])
    op.create_index('ix_suggestions_review_spend', 'suggestions',
                    ['seller_id', 'status', sa.text(f'({SPEND_RANK}) DESC'), 'id'])
    op.create_index('ix_suggestions_review_campaign', 'suggestions', ['seller_id', 'status', 'campaign_id', 'id'])


def downgrade():
    op.drop_index('ix_suggestions_review_campaign', table_name='suggestions')
    op.drop_index('ix_suggestions_review_spend', table_name='suggestions')
    op.drop_index('ix_suggestions_review_change', table_name='suggestions')
