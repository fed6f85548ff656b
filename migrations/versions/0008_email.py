"""email: preferences, send log, seller figures per week, alerts already emailed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:33:15

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('weekly', sa.Boolean(), nullable=False),
    sa.Column('alerts', sa.Boolean(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('seller_ids', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hour between 0 and 23', name=op.f('ck_email_preferences_hour')),
    sa.CheckConstraint('weekday between 0 and 6', name=op.f('ck_email_preferences_weekday')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_email_preferences'))
    )
    op.create_table('email_seller_weeks',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_email_seller_weeks_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seller_id', 'week', name=op.f('pk_email_seller_weeks'))
    )
    op.create_table('email_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind in ('weekly', 'alerts')", name=op.f('ck_email_sends_kind')),
    sa.CheckConstraint("state in ('queued', 'sending', 'sent', 'failed', 'unknown')", name=op.f('ck_email_sends_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_sends_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_sends')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_email_sends_dedupe_key'))
    )
    with op.batch_alter_table('email_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_sends_user_id'), ['user_id'], unique=False)

    op.create_table('email_alert_marks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('send_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['send_id'], ['email_sends.id'], name=op.f('fk_email_alert_marks_send_id_email_sends'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_alert_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_email_alert_marks'))
    )


def downgrade():
    op.drop_table('email_alert_marks')
    with op.batch_alter_table('email_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_sends_user_id'))

    op.drop_table('email_sends')
    op.drop_table('email_seller_weeks')
    op.drop_table('email_preferences')
