"""add the property register (properties, their cases, violations) and document validity

Revision ID: 5e0a7c2d9b14
Revises: 4c9fc332488a
Create Date: 2026-11-29 14:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0a7c2d9b14'
down_revision = '4c9fc332488a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('properties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registry_section', sa.Integer(), nullable=False),
    sa.Column('main_plate', sa.String(length=60), nullable=False),
    sa.Column('sub_plate', sa.String(length=60), server_default='', nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('renewal_code', sa.String(length=40), nullable=True),
    sa.Column('address', sa.Text(), server_default='', nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=True),
    sa.Column('area_m2', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('land_use', sa.String(length=20), server_default='', nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('zoning', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_properties_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_properties')),
    sa.UniqueConstraint('key', name=op.f('uq_properties_key')),
    sa.UniqueConstraint('renewal_code', name=op.f('uq_properties_renewal_code'))
    )
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_properties_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_properties_postal_code'), ['postal_code'], unique=False)

    op.create_table('property_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_property_cases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_property_cases_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_cases')),
    sa.UniqueConstraint('property_id', 'case_id', name=op.f('uq_property_cases_property_id_case_id'))
    )
    with op.batch_alter_table('property_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_property_cases_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_property_cases_property_id'), ['property_id'], unique=False)

    op.create_table('property_violations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('area_m2', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'settled', name='violationstatus', native_enum=False, length=10), nullable=False),
    sa.Column('ruling', sa.String(length=20), nullable=True),
    sa.Column('fine_rials', sa.BigInteger(), nullable=True),
    sa.Column('reference', sa.String(length=60), server_default='', nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_property_violations_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_property_violations_property_id_properties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_violations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_property_violations_idempotency_key'))
    )
    with op.batch_alter_table('property_violations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_property_violations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_property_violations_property_id'), ['property_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_property_violations_settled_key'), ['settled_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_property_violations_status'), ['status'], unique=False)

    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.drop_column('valid_until')

    with op.batch_alter_table('property_violations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_property_violations_status'))
        batch_op.drop_index(batch_op.f('ix_property_violations_settled_key'))
        batch_op.drop_index(batch_op.f('ix_property_violations_property_id'))
        batch_op.drop_index(batch_op.f('ix_property_violations_case_id'))

    op.drop_table('property_violations')
    with op.batch_alter_table('property_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_property_cases_property_id'))
        batch_op.drop_index(batch_op.f('ix_property_cases_case_id'))

    op.drop_table('property_cases')
    with op.batch_alter_table('properties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_properties_postal_code'))
        batch_op.drop_index(batch_op.f('ix_properties_district_id'))

    op.drop_table('properties')
