"""customer access: buildings, business connections and the PON (OLT ports, splitters,
residential connections), see inventory/models/access.py

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('building',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('residential_units', sa.Integer(), nullable=False),
    sa.Column('business_units', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_building_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_building_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_status'), ['status'], unique=False)

    op.create_table('oltport',
    sa.Column('interface_id', sa.Integer(), nullable=False),
    sa.Column('optics_class', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['interface_id'], ['interface.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('interface_id')
    )
    with op.batch_alter_table('oltport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oltport_plan_id'), ['plan_id'], unique=False)

    op.create_table('businessconnection',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('company', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('service_class', sa.String(length=16), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('bandwidth_mbps', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], ),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('businessconnection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_businessconnection_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_businessconnection_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_service_class'), ['service_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_businessconnection_status'), ['status'], unique=False)

    op.create_table('splitter',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ratio', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('olt_port_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('parent_port', sa.Integer(), nullable=True),
    sa.Column('feeder_cable_id', sa.Integer(), nullable=True),
    sa.Column('feeder_strand', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['feeder_cable_id'], ['cable.id'], ),
    sa.ForeignKeyConstraint(['node_id'], ['routenode.id'], ),
    sa.ForeignKeyConstraint(['olt_port_id'], ['oltport.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['splitter.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('parent_id', 'parent_port')
    )
    with op.batch_alter_table('splitter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_splitter_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_splitter_feeder_cable_id'), ['feeder_cable_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_splitter_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_splitter_olt_port_id'), ['olt_port_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_splitter_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_splitter_plan_id'), ['plan_id'], unique=False)

    op.create_table('residentialconnection',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('splitter_id', sa.Integer(), nullable=False),
    sa.Column('splitter_port', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('take_up', sa.String(length=16), nullable=False),
    sa.Column('drop_cable_id', sa.Integer(), nullable=True),
    sa.Column('drop_strand', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], ),
    sa.ForeignKeyConstraint(['drop_cable_id'], ['cable.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.ForeignKeyConstraint(['splitter_id'], ['splitter.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('splitter_id', 'splitter_port')
    )
    with op.batch_alter_table('residentialconnection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residentialconnection_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residentialconnection_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_residentialconnection_drop_cable_id'), ['drop_cable_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residentialconnection_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residentialconnection_splitter_id'), ['splitter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residentialconnection_take_up'), ['take_up'], unique=False)



def downgrade() -> None:
    # dropping a table drops its indexes; dependants first
    for table in ("residentialconnection", "splitter", "businessconnection", "oltport", "building"):
        op.drop_table(table)
