"""add back-office notes, task outcomes and district, inspection slots, inbox indexes

Revision ID: a61f0c3e9b27
Revises: 7b5a46004f83
Create Date: 2026-11-29 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a61f0c3e9b27'
down_revision = '7b5a46004f83'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)

    op.create_table('inspection_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_inspection_slots_booked_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_inspection_slots_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_inspection_slots_district_id_districts')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_inspection_slots_inspector_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_slots')),
    sa.UniqueConstraint('inspector_id', 'starts_at', name=op.f('uq_inspection_slots_inspector_id_starts_at'))
    )
    with op.batch_alter_table('inspection_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_slots_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_inspection_slots_free', ['district_id', 'case_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_slots_inspector_id'), ['inspector_id'], unique=False)

    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcomes', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('properties', sa.JSON(), server_default='{}', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_case_tasks_district_id_districts'), 'districts', ['district_id'], ['id'])
        batch_op.create_index('ix_case_tasks_inbox', ['lane', 'district_id', 'claimed_by_id', 'due_at'], unique=False, postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
        batch_op.create_index('ix_case_tasks_mine', ['claimed_by_id', 'due_at', 'id'], unique=False, postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
        batch_op.create_index('ix_case_tasks_open_due', ['due_at', 'id'], unique=False, postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))

    # Tasks opened before this migration take their case's district.
    op.execute(
        "UPDATE case_tasks SET district_id = "
        "(SELECT cases.district_id FROM cases WHERE cases.id = case_tasks.case_id)"
    )


def downgrade():
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tasks_open_due', postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
        batch_op.drop_index('ix_case_tasks_mine', postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
        batch_op.drop_index('ix_case_tasks_inbox', postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))
        batch_op.drop_constraint(batch_op.f('fk_case_tasks_district_id_districts'), type_='foreignkey')
        batch_op.drop_column('properties')
        batch_op.drop_column('outcomes')
        batch_op.drop_column('district_id')

    with op.batch_alter_table('inspection_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_slots_inspector_id'))
        batch_op.drop_index('ix_inspection_slots_free')
        batch_op.drop_index(batch_op.f('ix_inspection_slots_case_id'))

    op.drop_table('inspection_slots')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
