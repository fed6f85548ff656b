"""suggestions written and replaced faster: one foreign key per row, on its run and that run's seller (was one on
each); a plan's suggestion id is no longer a foreign key, whose per-row trigger slowed every delete of replaced
pending suggestions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:10:00

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CHANGE_RANK = "coalesce(abs(coalesce(approved_value, proposed_value) - current_value) / nullif(current_value, 0), -1)"
SPEND_RANK = "coalesce(abs(expected_spend_delta), -1)"
DECIDED = sa.text("status <> 'pending'")


@contextmanager
def _suggestions():
    """Batch-alter `suggestions`. SQLite rebuilds the table, and its reflection loses the expression and partial
    indexes, so they are dropped before and created again after."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in ('ix_suggestions_review_change', 'ix_suggestions_review_spend', 'ix_suggestions_entity'):
            op.drop_index(name, table_name='suggestions')
    with op.batch_alter_table('suggestions') as batch:
        yield batch
    if sqlite:
        op.create_index('ix_suggestions_review_change', 'suggestions',
                        ['seller_id', 'status', sa.text(f'({CHANGE_RANK}) DESC'), 'id'])
        op.create_index('ix_suggestions_review_spend', 'suggestions',
                        ['seller_id', 'status', sa.text(f'({SPEND_RANK}) DESC'), 'id'])
        op.create_index('ix_suggestions_entity', 'suggestions', ['profile_id', 'entity_id'], sqlite_where=DECIDED)


def upgrade():
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.create_unique_constraint('uq_suggestion_runs_id', ['id', 'seller_id'])
    with _suggestions() as batch:
        batch.drop_constraint('fk_suggestions_seller_id_sellers', type_='foreignkey')
        batch.drop_constraint('fk_suggestions_run_id_suggestion_runs', type_='foreignkey')
        batch.create_foreign_key('fk_suggestions_run_id_suggestion_runs', 'suggestion_runs',
                                 ['run_id', 'seller_id'], ['id', 'seller_id'], ondelete='CASCADE')
    with op.batch_alter_table('promotion_plans') as batch:
        batch.drop_constraint('fk_promotion_plans_suggestion_id_suggestions', type_='foreignkey')


def downgrade():
    op.execute("UPDATE promotion_plans SET suggestion_id = NULL "
               "WHERE suggestion_id IS NOT NULL AND suggestion_id NOT IN (SELECT id FROM suggestions)")
    with op.batch_alter_table('promotion_plans') as batch:
        batch.create_foreign_key('fk_promotion_plans_suggestion_id_suggestions', 'suggestions', ['suggestion_id'],
                                 ['id'], ondelete='SET NULL')
    with _suggestions() as batch:
        batch.drop_constraint('fk_suggestions_run_id_suggestion_runs', type_='foreignkey')
        batch.create_foreign_key('fk_suggestions_run_id_suggestion_runs', 'suggestion_runs', ['run_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_foreign_key('fk_suggestions_seller_id_sellers', 'sellers', ['seller_id'], ['id'],
                                 ondelete='CASCADE')
    with op.batch_alter_table('suggestion_runs') as batch:
        batch.drop_constraint('uq_suggestion_runs_id', type_='unique')
