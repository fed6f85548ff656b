"""email: `marketing email test` messages get their send-log row too (kind 'test')

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:40:00

"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _kinds(kinds: str) -> None:
    with op.batch_alter_table('email_sends') as batch:
        batch.drop_constraint(op.f('ck_email_sends_kind'), type_='check')
        batch.create_check_constraint('kind', f"kind in ({kinds})")


def upgrade():
    _kinds("'weekly', 'alerts', 'test'")


def downgrade():
    op.execute("DELETE FROM email_sends WHERE kind = 'test'")
    _kinds("'weekly', 'alerts'")
