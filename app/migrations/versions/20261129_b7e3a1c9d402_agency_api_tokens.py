"""API tokens of inquiring organisations (agency inbound API)

Revision ID: b7e3a1c9d402
Revises: 5e0a7c2d9b14
Create Date: 2026-11-29 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3a1c9d402'
down_revision = '5e0a7c2d9b14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agency_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_agency_api_tokens_token_hash'))
    )
    with op.batch_alter_table('agency_api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('agency_api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_api_tokens_user_id'))

    op.drop_table('agency_api_tokens')
