"""mark case changes for the public figures' background fold

Revision ID: 8f3d2b6a1c57
Revises: b7e3a1c9d402
Create Date: 2026-11-29 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f3d2b6a1c57'
down_revision = 'b7e3a1c9d402'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_cases_figures_changed', ['figures_changed_at'], unique=False, postgresql_where=sa.text('figures_changed_at IS NOT NULL'), sqlite_where=sa.text('figures_changed_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_figures_changed', postgresql_where=sa.text('figures_changed_at IS NOT NULL'), sqlite_where=sa.text('figures_changed_at IS NOT NULL'))
        batch_op.drop_column('figures_changed_at')
