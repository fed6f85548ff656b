"""suggestions and suggestion runs (bid suggestions first, promotions later)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=4)


def upgrade():
    op.create_table(
        'suggestion_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seller_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('targets', sa.Integer(), nullable=False),
        sa.Column('suggestions', sa.Integer(), nullable=False),
        sa.Column('up', sa.Integer(), nullable=False),
        sa.Column('down', sa.Integer(), nullable=False),
        sa.Column('superseded', sa.Integer(), nullable=False),
        sa.Column('auto_approved', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_suggestion_runs_seller_id_sellers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_runs')),
    )
    op.create_index(op.f('ix_suggestion_runs_seller_id'), 'suggestion_runs', ['seller_id'], unique=False)
    op.create_table(
        'suggestions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seller_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('profile_id', sa.BigInteger(), nullable=False),
        sa.Column('entity_kind', sa.String(length=8), nullable=False),
        sa.Column('entity_id', sa.BigInteger(), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), nullable=True),
        sa.Column('ad_group_id', sa.BigInteger(), nullable=True),
        sa.Column('label', sa.Text(), nullable=True),
        sa.Column('current_value', MONEY, nullable=False),
        sa.Column('proposed_value', MONEY, nullable=False),
        sa.Column('approved_value', MONEY, nullable=True),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=48), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('inputs', sa.JSON(), nullable=False),
        sa.Column('expected_spend_delta', MONEY, nullable=True),
        sa.Column('expected_sales_delta', MONEY, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=254), nullable=True),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('changed_on', sa.Date(), nullable=True),
        sa.Column('previous_value', MONEY, nullable=True),
        sa.Column('undo_requested_by', sa.String(length=254), nullable=True),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('amazon_response', sa.JSON(), nullable=True),
        sa.Column('error_code', sa.String(length=64), nullable=True),
        sa.Column('error_message', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_suggestions_decided_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['suggestion_runs.id'],
                                name=op.f('fk_suggestions_run_id_suggestion_runs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_suggestions_seller_id_sellers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    )
    op.create_index('ix_suggestions_entity', 'suggestions', ['profile_id', 'entity_id'], unique=False)
    op.create_index('ix_suggestions_seller_status', 'suggestions', ['seller_id', 'status'], unique=False)
    op.create_index(op.f('ix_suggestions_run_id'), 'suggestions', ['run_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_suggestions_run_id'), table_name='suggestions')
    op.drop_index('ix_suggestions_seller_status', table_name='suggestions')
    op.drop_index('ix_suggestions_entity', table_name='suggestions')
    op.drop_table('suggestions')
    op.drop_index(op.f('ix_suggestion_runs_seller_id'), table_name='suggestion_runs')
    op.drop_table('suggestion_runs')
