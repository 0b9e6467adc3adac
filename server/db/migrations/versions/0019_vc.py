"""The 災害VC day (#18): centres (operations of kind `vc`), needs, surveys, volunteers and their
check-ins, teams, dispatches, the equipment ledger, activity reports; the `vc_desk` role.

pg_trgm (a trusted extension: the database owner may create it) serves the similar-kana duplicate
search. Stock can never go below zero (CHECK; loans decrement under the row lock). Every table
is tenant-owned with the same RLS policy as the rest (docs/decisions/0025-vc-roles.md).

Revision ID: 0019
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from server.db.rls import disable_tenant_rls, enable_tenant_rls, execute_all

TENANT_TABLES = ("vc_settings", "vc_centre", "vc_equipment", "vc_need", "vc_volunteer", "vc_checkin", "vc_survey",
                 "vc_team", "vc_dispatch", "vc_team_member", "vc_equipment_move", "vc_report")
ROLES_BEFORE = "'admin', 'staff', 'coordinator', 'commissioner', 'watcher', 'vc_volunteer'"
KINDS_BEFORE = "'watch_round', 'safety_check'"

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("ALTER TABLE operation DROP CONSTRAINT ck_operation_kind_known")
    op.execute(f"ALTER TABLE operation ADD CONSTRAINT ck_operation_kind_known CHECK (kind IN ({KINDS_BEFORE}, 'vc'))")
    op.execute("ALTER TABLE app_user DROP CONSTRAINT ck_app_user_role_known")
    op.execute(f"ALTER TABLE app_user ADD CONSTRAINT ck_app_user_role_known CHECK (role IN ({ROLES_BEFORE}, 'vc_desk'))")
    op.create_table('vc_settings',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('guardian_in_team_below', sa.SmallInteger(), server_default='16', nullable=False),
    sa.CheckConstraint('guardian_in_team_below BETWEEN 0 AND 18', name=op.f('ck_vc_settings_guardian_age_sane')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_settings_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_vc_settings'))
    )
    op.create_geospatial_table('vc_centre',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('base', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['operation.tenant_id', 'operation.id'], name=op.f('fk_vc_centre_tenant_id_operation_id_operation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_centre_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'operation_id', name=op.f('pk_vc_centre'))
    )
    op.create_table('vc_equipment',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_vc_equipment_stock_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_equipment_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_equipment_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_equipment')),
    sa.UniqueConstraint('tenant_id', 'operation_id', 'code', name=op.f('uq_vc_equipment_tenant_id_operation_id_code'))
    )
    op.create_geospatial_table('vc_need',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('requester_name', sa.String(length=100), nullable=False),
    sa.Column('requester_kana', sa.String(length=100), server_default='', nullable=False),
    sa.Column('requester_kana_normalised', sa.String(length=100), server_default='', nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('phone_normalised', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('location_approximate', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('district_id', sa.UUID(), nullable=True),
    sa.Column('household_id', sa.UUID(), nullable=True),
    sa.Column('damage_kinds', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('work_types', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('equipment', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('skills', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('flags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('people_needed', sa.SmallInteger(), nullable=False),
    sa.Column('hours_estimated', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('needs_truck', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('remaining', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='received', nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('received', 'survey', 'waiting', 'active', 'done', 'continued')", name=op.f('ck_vc_need_state_known')),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= received_on', name=op.f('ck_vc_need_closed_after_received')),
    sa.CheckConstraint('hours_estimated IS NULL OR hours_estimated BETWEEN 0 AND 1000', name=op.f('ck_vc_need_hours_sane')),
    sa.CheckConstraint('people_needed BETWEEN 1 AND 500', name=op.f('ck_vc_need_people_sane')),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['household.tenant_id', 'household.id'], name=op.f('fk_vc_need_tenant_id_household_id_household'), ondelete='SET NULL (household_id)'),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_need_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_need_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_need'))
    )
    op.create_index('ix_vc_need_board', 'vc_need', ['tenant_id', 'operation_id', 'state'], unique=False)
    op.create_index('ix_vc_need_kana_trgm', 'vc_need', ['requester_kana_normalised'], unique=False, postgresql_using='gin', postgresql_ops={'requester_kana_normalised': 'gin_trgm_ops'})
    op.create_geospatial_index('ix_vc_need_location', 'vc_need', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_vc_need_phone', 'vc_need', ['tenant_id', 'operation_id', 'phone_normalised'], unique=False)
    op.create_table('vc_volunteer',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='individual', nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kana', sa.String(length=100), server_default='', nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('group_name', sa.String(length=100), nullable=True),
    sa.Column('group_size', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('age_band', sa.String(length=16), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('prefecture', sa.String(length=2), nullable=False),
    sa.Column('skills', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('light_truck', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('insurance', sa.String(length=16), server_default='none', nullable=False),
    sa.Column('insured_where', sa.String(length=100), nullable=True),
    sa.Column('insured_on', sa.Date(), nullable=True),
    sa.Column('insurance_receipt', sa.String(length=40), nullable=True),
    sa.Column('guardian_consent_by', sa.String(length=100), nullable=True),
    sa.Column('guardian_id', sa.UUID(), nullable=True),
    sa.Column('registered_via', sa.String(length=16), server_default='desk', nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('privacy_notice', sa.String(length=20), nullable=True),
    sa.Column('privacy_consented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("age_band IN ('under_16', 'age_16_17', 'age_18_29', 'age_30_49', 'age_50_64', 'age_65_plus')", name=op.f('ck_vc_volunteer_age_band_known')),
    sa.CheckConstraint("group_size BETWEEN 1 AND 200 AND (kind = 'group' OR group_size = 1)", name=op.f('ck_vc_volunteer_group_size_sane')),
    sa.CheckConstraint("insurance <> 'enrolled_here' OR insurance_receipt IS NOT NULL", name=op.f('ck_vc_volunteer_receipt_for_enrolled_here')),
    sa.CheckConstraint("insurance IN ('enrolled', 'enrolled_here', 'none')", name=op.f('ck_vc_volunteer_insurance_known')),
    sa.CheckConstraint("kind IN ('individual', 'group')", name=op.f('ck_vc_volunteer_kind_known')),
    sa.CheckConstraint("registered_via <> 'preregistration' OR privacy_consented_at IS NOT NULL", name=op.f('ck_vc_volunteer_preregistration_consented')),
    sa.CheckConstraint("registered_via IN ('desk', 'preregistration')", name=op.f('ck_vc_volunteer_via_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'guardian_id'], ['vc_volunteer.tenant_id', 'vc_volunteer.id'], name=op.f('fk_vc_volunteer_tenant_id_guardian_id_vc_volunteer'), ondelete='SET NULL (guardian_id)'),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_volunteer_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['app_user.tenant_id', 'app_user.id'], name=op.f('fk_vc_volunteer_tenant_id_user_id_app_user'), ondelete='SET NULL (user_id)'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_volunteer_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_volunteer')),
    sa.UniqueConstraint('tenant_id', 'token_hash', name=op.f('uq_vc_volunteer_tenant_id_token_hash')),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_vc_volunteer_tenant_id_user_id'))
    )
    op.create_index('ix_vc_volunteer_operation', 'vc_volunteer', ['tenant_id', 'operation_id'], unique=False)
    op.create_table('vc_checkin',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('vc_day', sa.Date(), nullable=False),
    sa.Column('people', sa.SmallInteger(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_checkin_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['vc_volunteer.tenant_id', 'vc_volunteer.id'], name=op.f('fk_vc_checkin_tenant_id_volunteer_id_vc_volunteer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_checkin_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_checkin')),
    sa.UniqueConstraint('tenant_id', 'volunteer_id', 'vc_day', name=op.f('uq_vc_checkin_tenant_id_volunteer_id_vc_day'))
    )
    op.create_index('ix_vc_checkin_day', 'vc_checkin', ['tenant_id', 'operation_id', 'vc_day'], unique=False)
    op.create_table('vc_survey',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('need_id', sa.UUID(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('risks', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('risk_notes', sa.Text(), nullable=True),
    sa.Column('surveyor', sa.String(length=100), nullable=False),
    sa.Column('surveyed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('vc_day', sa.Date(), nullable=False),
    sa.CheckConstraint("verdict IN ('needed', 'not_needed', 'discuss')", name=op.f('ck_vc_survey_verdict_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'need_id'], ['vc_need.tenant_id', 'vc_need.id'], name=op.f('fk_vc_survey_tenant_id_need_id_vc_need'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_survey_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_survey'))
    )
    op.create_index('ix_vc_survey_need', 'vc_survey', ['tenant_id', 'need_id'], unique=False)
    op.create_table('vc_team',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('vc_day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('leader_id', sa.UUID(), nullable=False),
    sa.Column('people', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'leader_id'], ['vc_volunteer.tenant_id', 'vc_volunteer.id'], name=op.f('fk_vc_team_tenant_id_leader_id_vc_volunteer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_team_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_team_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_team')),
    sa.UniqueConstraint('tenant_id', 'operation_id', 'vc_day', 'name', name=op.f('uq_vc_team_tenant_id_operation_id_vc_day_name'))
    )
    op.create_index('ix_vc_team_day', 'vc_team', ['tenant_id', 'operation_id', 'vc_day'], unique=False)
    op.create_table('vc_dispatch',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('team_id', sa.UUID(), nullable=False),
    sa.Column('need_id', sa.UUID(), nullable=False),
    sa.Column('vc_day', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('dispatched_by', sa.UUID(), nullable=False),
    sa.CheckConstraint("state IN ('active', 'reported')", name=op.f('ck_vc_dispatch_state_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'need_id'], ['vc_need.tenant_id', 'vc_need.id'], name=op.f('fk_vc_dispatch_tenant_id_need_id_vc_need'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'operation_id'], ['vc_centre.tenant_id', 'vc_centre.operation_id'], name=op.f('fk_vc_dispatch_tenant_id_operation_id_vc_centre'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'team_id'], ['vc_team.tenant_id', 'vc_team.id'], name=op.f('fk_vc_dispatch_tenant_id_team_id_vc_team'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_dispatch_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_dispatch'))
    )
    op.create_index('ix_vc_dispatch_need', 'vc_dispatch', ['tenant_id', 'need_id'], unique=False)
    op.create_index('uq_vc_dispatch_team_active', 'vc_dispatch', ['tenant_id', 'team_id'], unique=True, postgresql_where="state = 'active'")
    op.create_table('vc_team_member',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('team_id', sa.UUID(), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('vc_day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'team_id'], ['vc_team.tenant_id', 'vc_team.id'], name=op.f('fk_vc_team_member_tenant_id_team_id_vc_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['vc_volunteer.tenant_id', 'vc_volunteer.id'], name=op.f('fk_vc_team_member_tenant_id_volunteer_id_vc_volunteer'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_team_member_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'team_id', 'volunteer_id', name=op.f('pk_vc_team_member')),
    sa.UniqueConstraint('tenant_id', 'volunteer_id', 'vc_day', name=op.f('uq_vc_team_member_tenant_id_volunteer_id_vc_day'))
    )
    op.create_table('vc_equipment_move',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('equipment_id', sa.UUID(), nullable=False),
    sa.Column('dispatch_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('by_user', sa.UUID(), nullable=False),
    sa.CheckConstraint("(kind = 'stock') = (dispatch_id IS NULL)", name=op.f('ck_vc_equipment_move_dispatch_unless_stock')),
    sa.CheckConstraint("kind IN ('stock', 'loan', 'return', 'loss')", name=op.f('ck_vc_equipment_move_kind_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_vc_equipment_move_quantity_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'dispatch_id'], ['vc_dispatch.tenant_id', 'vc_dispatch.id'], name=op.f('fk_vc_equipment_move_tenant_id_dispatch_id_vc_dispatch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'equipment_id'], ['vc_equipment.tenant_id', 'vc_equipment.id'], name=op.f('fk_vc_equipment_move_tenant_id_equipment_id_vc_equipment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_equipment_move_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_equipment_move'))
    )
    op.create_index('ix_vc_equipment_move_dispatch', 'vc_equipment_move', ['tenant_id', 'dispatch_id'], unique=False)
    op.create_table('vc_report',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('dispatch_id', sa.UUID(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('work_done', sa.Text(), nullable=True),
    sa.Column('remaining', sa.Text(), nullable=True),
    sa.Column('people', sa.SmallInteger(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('injuries', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('injury_notes', sa.Text(), nullable=True),
    sa.Column('near_misses', sa.Text(), nullable=True),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('server_time', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('reported_by', sa.UUID(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("outcome IN ('done', 'continued')", name=op.f('ck_vc_report_outcome_known')),
    sa.CheckConstraint('people BETWEEN 0 AND 500 AND hours BETWEEN 0 AND 24 AND injuries >= 0', name=op.f('ck_vc_report_figures_sane')),
    sa.ForeignKeyConstraint(['tenant_id', 'dispatch_id'], ['vc_dispatch.tenant_id', 'vc_dispatch.id'], name=op.f('fk_vc_report_tenant_id_dispatch_id_vc_dispatch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_vc_report_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_vc_report')),
    sa.UniqueConstraint('tenant_id', 'client_id', name=op.f('uq_vc_report_tenant_id_client_id')),
    sa.UniqueConstraint('tenant_id', 'dispatch_id', name=op.f('uq_vc_report_tenant_id_dispatch_id'))
    )
    for table in TENANT_TABLES:
        execute_all(op, enable_tenant_rls(table))


def downgrade() -> None:
    for table in TENANT_TABLES:
        execute_all(op, disable_tenant_rls(table))
    op.drop_table('vc_report')
    op.drop_index('ix_vc_equipment_move_dispatch', table_name='vc_equipment_move')
    op.drop_table('vc_equipment_move')
    op.drop_table('vc_team_member')
    op.drop_index('uq_vc_dispatch_team_active', table_name='vc_dispatch', postgresql_where="state = 'active'")
    op.drop_index('ix_vc_dispatch_need', table_name='vc_dispatch')
    op.drop_table('vc_dispatch')
    op.drop_index('ix_vc_team_day', table_name='vc_team')
    op.drop_table('vc_team')
    op.drop_index('ix_vc_survey_need', table_name='vc_survey')
    op.drop_table('vc_survey')
    op.drop_index('ix_vc_checkin_day', table_name='vc_checkin')
    op.drop_table('vc_checkin')
    op.drop_index('ix_vc_volunteer_operation', table_name='vc_volunteer')
    op.drop_table('vc_volunteer')
    op.drop_index('ix_vc_need_phone', table_name='vc_need')
    op.drop_geospatial_index('ix_vc_need_location', table_name='vc_need', postgresql_using='gist', column_name='location')
    op.drop_index('ix_vc_need_kana_trgm', table_name='vc_need', postgresql_using='gin', postgresql_ops={'requester_kana_normalised': 'gin_trgm_ops'})
    op.drop_index('ix_vc_need_board', table_name='vc_need')
    op.drop_geospatial_table('vc_need')
    op.drop_table('vc_equipment')
    op.drop_geospatial_table('vc_centre')
    op.drop_table('vc_settings')
    op.execute("DELETE FROM app_user WHERE role = 'vc_desk'")
    op.execute("DELETE FROM operation WHERE kind = 'vc'")
    op.execute("ALTER TABLE app_user DROP CONSTRAINT ck_app_user_role_known")
    op.execute(f"ALTER TABLE app_user ADD CONSTRAINT ck_app_user_role_known CHECK (role IN ({ROLES_BEFORE}))")
    op.execute("ALTER TABLE operation DROP CONSTRAINT ck_operation_kind_known")
    op.execute(f"ALTER TABLE operation ADD CONSTRAINT ck_operation_kind_known CHECK (kind IN ({KINDS_BEFORE}))")
