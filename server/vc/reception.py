"""Step 3 of the VC day: volunteer reception (当日受付) — walk-ins, the pre-registration QR, check-ins,
insurance enrolled on the spot, guardian consent — and the public pre-registration page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import segno
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.guards import public
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.services import services
from server.tenancy.models import Tenant
from server.vc.common import DESK, Centre, audit_vc, check_codes, emit_vc, get_centre, raise_if, vc_day
from server.vc.models import VcCheckin, VcSettings, VcVolunteer
from server.vc.schemas import (
    CheckinIn,
    GuardianIn,
    InsuranceIn,
    JoinLinkOut,
    PrivacyNoticeOut,
    PublicRegistrationIn,
    PublicRegistrationOut,
    VolunteerIn,
    VolunteerOut,
)
from vocab import VC_AGE_BANDS, VC_INSURANCE, VC_SKILLS

ADULT_AGE = 18
DEFAULT_GUARDIAN_IN_TEAM_BELOW = 16
MINOR_BANDS = {"under_16": 15, "age_16_17": 17}  # the oldest age a band allows

PRIVACY_NOTICE_VERSION = "2026-12"
PRIVACY_NOTICE_JA = (
    "ご登録いただいた氏名・連絡先・年齢・都道府県・保険加入状況は、このセンターでのボランティア活動の受付、"
    "班編成、安全管理、活動保険の確認と、人数の集計（個人が分からない形）にのみ使います。"
    "QRコードには個人情報は含まれません。センター閉所後、社会福祉協議会の規程に従って消去します。"
)
PRIVACY_NOTICE_EN = (
    "Your name, contact, age, prefecture and insurance status are used only to check you in at this centre, "
    "form teams, keep you safe, confirm your volunteer insurance, and count volunteers (without naming anyone). "
    "The QR code holds no personal data. The council deletes the records after the centre closes, by its rules."
)


# --- the pre-registration token: opaque, signed, only its hash stored ----------------------------


def _mac(secret: str, tenant_id: uuid.UUID, operation_id: uuid.UUID, raw: str) -> str:
    digest = hmac.new(secret.encode(), f"vc-prereg:{tenant_id}:{operation_id}:{raw}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def new_token(secret: str, tenant_id: uuid.UUID, operation_id: uuid.UUID) -> str:
    raw = secrets.token_urlsafe(16)
    return f"{raw}.{_mac(secret, tenant_id, operation_id, raw)}"


def token_valid(secret: str, tenant_id: uuid.UUID, operation_id: uuid.UUID, token: str) -> bool:
    raw, _, mac = token.strip().partition(".")
    expected = _mac(secret, tenant_id, operation_id, raw).encode()
    return bool(raw and mac) and hmac.compare_digest(mac.encode(), expected)  # bytes: any text compares


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def join_path(municipality_code: str, operation_id: uuid.UUID) -> str:
    """The PWA's public pre-registration page of a centre (pwa/src/vc/register-page.ts)."""
    return f"/vc/join/{municipality_code}/{operation_id}"


def qr_svg(text: str) -> str:
    """A QR code (segno) of a pre-registration token or of the page's address, as SVG."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=6, border=4, xmldecl=False, title="QR")
    return out.getvalue().decode()


# --- the age rules -------------------------------------------------------------------------------


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_of(v: VcVolunteer | VolunteerIn | PublicRegistrationIn, day: date) -> int | None:
    """The volunteer's age that day: exact from a birth date, else the oldest their band allows
    (None for adults without a birth date)."""
    if v.birth_date is not None:
        return age_on(v.birth_date, day)
    return MINOR_BANDS.get(v.age_band)


async def guardian_in_team_below(db: AsyncSession) -> int:
    value = (
        await db.execute(select(VcSettings.guardian_in_team_below).where(VcSettings.tenant_id == current_tenant()))
    ).scalar()
    return DEFAULT_GUARDIAN_IN_TEAM_BELOW if value is None else int(value)


def check_minor(v: VcVolunteer | VolunteerIn | PublicRegistrationIn, day: date) -> None:
    """Under 18: a guardian's consent is on record, or the volunteer is refused."""
    age = age_of(v, day)
    if age is not None and age < ADULT_AGE and not (v.guardian_consent_by or "").strip():
        raise Problem("vc_minor_needs_consent", errors=[FieldError("guardian_consent_by", "required")])


def _validate(data: VolunteerIn | PublicRegistrationIn, day: date) -> None:
    errors: list[FieldError | None] = [
        check_codes("age_band", [data.age_band], VC_AGE_BANDS),
        check_codes("skills", data.skills, VC_SKILLS),
        check_codes("insurance", [data.insurance], VC_INSURANCE),
    ]
    if data.kind == "group" and not (data.group_name or "").strip():
        errors.append(FieldError("group_name", "required"))
    if data.kind == "individual" and data.group_size != 1:
        errors.append(FieldError("group_size", "out_of_range", "個人の人数は1です。", "An individual is one person."))
    if data.birth_date is not None and (data.birth_date > day or data.birth_date.year < 1900):
        raise Problem("vc_bad_date", errors=[FieldError("birth_date", "out_of_range")])
    if data.insured_on is not None and data.insured_on > day:
        raise Problem("vc_bad_date", errors=[FieldError("insured_on", "out_of_range")])
    if isinstance(data, VolunteerIn) and data.insurance == "enrolled_here" and not data.insurance_receipt:
        errors.append(
            FieldError(
                "insurance_receipt",
                "required",
                "当日加入の受付番号を入力してください。",
                "Give the receipt number of the enrolment here.",
            )
        )
    raise_if(errors)
    check_minor(data, day)


def volunteer_out(v: VcVolunteer, mode: str, checked_in_on: date | None) -> VolunteerOut:
    from server.vc.common import label

    return VolunteerOut(
        id=v.id,
        operation_id=v.operation_id,
        kind=v.kind,
        name=v.name,
        kana=v.kana,
        phone=v.phone,
        group_name=v.group_name,
        group_size=v.group_size,
        age_band=v.age_band,
        prefecture=v.prefecture,
        skills=list(v.skills),
        light_truck=v.light_truck,
        insurance=v.insurance,
        guardian_consent_by=v.guardian_consent_by,
        guardian_id=v.guardian_id,
        registered_via=v.registered_via,
        checked_in_on=checked_in_on,
        label=label(mode),
    )


async def check_in(db: AsyncSession, c: Centre, v: VcVolunteer, day: date) -> None:
    """One check-in per volunteer and day (a second scan is a no-op, not an error)."""
    check_minor(v, day)
    await db.execute(
        insert(VcCheckin)
        .values(
            tenant_id=v.tenant_id,
            id=uuid.uuid4(),
            operation_id=c.id,
            volunteer_id=v.id,
            vc_day=day,
            people=v.group_size,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "volunteer_id", "vc_day"])
    )


async def volunteer_for_update(db: AsyncSession, volunteer_id: uuid.UUID) -> tuple[Centre, VcVolunteer]:
    """The volunteer (row-locked) and their open centre."""
    v = (
        await db.execute(
            select(VcVolunteer)
            .where(VcVolunteer.tenant_id == current_tenant(), VcVolunteer.id == volunteer_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if v is None:
        raise Problem("not_found")
    return await get_centre(db, v.operation_id, writable=True), v


def _new_volunteer(c: Centre, data: VolunteerIn | PublicRegistrationIn, **via: Any) -> VcVolunteer:
    """A volunteer row from the fields the desk's form and the public page share; `via` adds the rest."""
    return VcVolunteer(
        tenant_id=c.op.tenant_id,
        id=uuid.uuid4(),
        operation_id=c.id,
        kind=data.kind,
        name=data.name,
        kana=data.kana,
        phone=data.phone,
        group_name=data.group_name,
        group_size=data.group_size,
        age_band=data.age_band,
        birth_date=data.birth_date,
        prefecture=data.prefecture,
        skills=data.skills,
        light_truck=data.light_truck,
        insurance=data.insurance,
        insured_where=data.insured_where,
        insured_on=data.insured_on,
        guardian_consent_by=data.guardian_consent_by,
        **via,
    )


class ReceptionController(Controller):
    path = "/api/vc/centres/{operation_id:uuid}"
    tags = ("vc",)
    guards = (DESK,)

    @post("/volunteers", status_code=HTTP_201_CREATED, summary="Register a walk-in (and check them in)")
    async def register(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[VolunteerIn]
    ) -> VolunteerOut:
        c = await get_centre(db_session, operation_id, writable=True)
        day = await vc_day(db_session, c, data.vc_day)
        v = await register_volunteer(db_session, c, data, day)
        await db_session.commit()
        return volunteer_out(v, c.mode, day if data.check_in else None)

    @post("/checkins", status_code=200, summary="Check a volunteer in: the scanned QR token, or their id")
    async def checkin(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        data: JSONBody[CheckinIn],
    ) -> VolunteerOut:
        c = await get_centre(db_session, operation_id, writable=True)
        day = await vc_day(db_session, c, data.vc_day)
        if (data.token is None) == (data.volunteer_id is None):
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "token",
                        "required",
                        "QRの内容か受付IDのどちらか一つを送ってください。",
                        "Send either the QR token or the volunteer id.",
                    )
                ],
            )
        if data.token is not None:
            secret = services(request.app).settings.secret_key
            if not token_valid(secret, c.op.tenant_id, c.id, data.token):
                raise Problem("vc_token_invalid")
            q = select(VcVolunteer).where(
                VcVolunteer.tenant_id == c.op.tenant_id,
                VcVolunteer.operation_id == c.id,
                VcVolunteer.token_hash == token_hash(data.token),
            )
        else:
            q = select(VcVolunteer).where(
                VcVolunteer.tenant_id == c.op.tenant_id,
                VcVolunteer.operation_id == c.id,
                VcVolunteer.id == data.volunteer_id,
            )
        v = (await db_session.execute(q)).scalar_one_or_none()
        if v is None:
            raise Problem("vc_token_invalid" if data.token is not None else "not_found")
        await check_in(db_session, c, v, day)
        await audit_vc(db_session, c, "vc.volunteer.checkin", "vc_volunteer", [v.id], vc_day=str(day))
        await emit_vc(db_session, c, "vc.checkin", {"volunteer_id": str(v.id), "people": v.group_size})
        await db_session.commit()
        return volunteer_out(v, c.mode, day)

    @get(
        "/join-link",
        summary="The public pre-registration page of an open centre: its address and a QR code of it",
    )
    async def join_link(
        self, request: Request[Any, Any, Any], db_session: DbSession, operation_id: FromPath[uuid.UUID]
    ) -> JoinLinkOut:
        """What the desk shows, copies and prints on the poster. A closed centre takes no
        registrations, so it has no link (409 `vc_centre_closed`)."""
        c = await get_centre(db_session, operation_id, writable=True)
        code = (
            await db_session.execute(select(Tenant.municipality_code).where(Tenant.id == c.op.tenant_id))
        ).scalar_one()
        path = join_path(code, c.id)
        url = services(request.app).settings.public_url.rstrip("/") + path
        return JoinLinkOut(url=url, path=path, qr_svg=qr_svg(url), centre=c.op.name, label=c.label)

    @get("/volunteers", summary="Volunteers of a VC day (checked in), or all registered")
    async def list_volunteers(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], vc_day: FromQuery[date | None] = None
    ) -> list[VolunteerOut]:
        c = await get_centre(db_session, operation_id)
        day = vc_day or c.today()
        rows = (
            await db_session.execute(
                select(VcVolunteer, VcCheckin.vc_day)
                .join(
                    VcCheckin,
                    (VcCheckin.tenant_id == VcVolunteer.tenant_id)
                    & (VcCheckin.volunteer_id == VcVolunteer.id)
                    & (VcCheckin.vc_day == day),
                )
                .where(VcVolunteer.tenant_id == c.op.tenant_id, VcVolunteer.operation_id == c.id)
                .order_by(VcCheckin.checked_in_at)
                .limit(10_000)
            )
        ).all()
        if rows:
            await audit_vc(db_session, c, "vc.volunteer.read", "vc_volunteer", [r[0].id for r in rows], via="list")
            await db_session.commit()
        return [volunteer_out(v, c.mode, d) for v, d in rows]


async def _same_centre_volunteer(db: AsyncSession, c: Centre, volunteer_id: uuid.UUID, field: str) -> VcVolunteer:
    v = (
        await db.execute(
            select(VcVolunteer).where(
                VcVolunteer.tenant_id == c.op.tenant_id,
                VcVolunteer.operation_id == c.id,
                VcVolunteer.id == volunteer_id,
            )
        )
    ).scalar_one_or_none()
    if v is None:
        raise Problem("invalid_reference", errors=[FieldError(field, "unknown_reference")])
    return v


class VolunteerController(Controller):
    path = "/api/vc/volunteers"
    tags = ("vc",)
    guards = (DESK,)

    @post(
        "/{volunteer_id:uuid}/insurance",
        status_code=200,
        summary="Record insurance (enrolled here: receipt no.)",
    )
    async def insurance(
        self, db_session: DbSession, volunteer_id: FromPath[uuid.UUID], data: JSONBody[InsuranceIn]
    ) -> VolunteerOut:
        c, v = await volunteer_for_update(db_session, volunteer_id)
        await record_insurance(db_session, c, v, data)
        await db_session.commit()
        return volunteer_out(v, c.mode, None)

    @post("/{volunteer_id:uuid}/guardian", status_code=200, summary="Record a guardian's consent for a minor")
    async def guardian(
        self, db_session: DbSession, volunteer_id: FromPath[uuid.UUID], data: JSONBody[GuardianIn]
    ) -> VolunteerOut:
        c, v = await volunteer_for_update(db_session, volunteer_id)
        if data.guardian_id is not None:
            await _same_centre_volunteer(db_session, c, data.guardian_id, "guardian_id")
        v.guardian_consent_by, v.guardian_id = data.guardian_consent_by, data.guardian_id
        await audit_vc(db_session, c, "vc.volunteer.update", "vc_volunteer", [v.id], guardian=True)
        await db_session.commit()
        return volunteer_out(v, c.mode, None)


async def register_volunteer(db: AsyncSession, c: Centre, data: VolunteerIn, day: date) -> VcVolunteer:
    """Register a walk-in at the desk by the reception rules (age, consent, insurance receipt) and
    check them in when asked; the caller commits (the route, or a drill's walk-in inject)."""
    _validate(data, day)
    if data.guardian_id is not None:
        await _same_centre_volunteer(db, c, data.guardian_id, "guardian_id")
    v = _new_volunteer(
        c,
        data,
        registered_via="desk",
        insurance_receipt=data.insurance_receipt,
        guardian_id=data.guardian_id,
        user_id=data.user_id,
    )
    db.add(v)
    try:
        await db.flush()
    except IntegrityError as exc:  # the only unique key a desk can hit: a login linked twice
        raise Problem("duplicate", errors=[FieldError("user_id", "taken")]) from exc
    if data.check_in:
        await check_in(db, c, v, day)
    await audit_vc(db, c, "vc.volunteer.create", "vc_volunteer", [v.id], checked_in=data.check_in)
    await emit_vc(db, c, "vc.checkin", {"volunteer_id": str(v.id), "people": v.group_size})
    return v


async def record_insurance(db: AsyncSession, c: Centre, v: VcVolunteer, data: InsuranceIn) -> None:
    """Record a volunteer's insurance (enrolled here: with its receipt); the caller holds the
    volunteer's row lock and commits."""
    raise_if([check_codes("insurance", [data.insurance], VC_INSURANCE)])
    if data.insurance == "enrolled_here" and not data.insurance_receipt:
        raise Problem("validation_failed", errors=[FieldError("insurance_receipt", "required")])
    day = c.today()
    if data.insured_on is not None and data.insured_on > day:
        raise Problem("vc_bad_date", errors=[FieldError("insured_on", "out_of_range")])
    v.insurance, v.insured_where, v.insurance_receipt = (
        data.insurance,
        data.insured_where,
        data.insurance_receipt,
    )
    v.insured_on = data.insured_on or (day if data.insurance == "enrolled_here" else None)
    await audit_vc(db, c, "vc.volunteer.update", "vc_volunteer", [v.id], insurance=data.insurance)


# --- the public page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: timedelta


# Pre-registrations per client address (no account to key on) and hour. A volunteer group behind
# one mobile NAT registers a handful, far below it.
PUBLIC_LIMIT = RateLimit(limit=20, window=timedelta(hours=1))

_PUBLIC_HIT = text(
    """
    WITH pruned AS (DELETE FROM vc_public_hit WHERE at <= now() - make_interval(secs => :secs)),
    recent AS (SELECT count(*) AS n FROM vc_public_hit
               WHERE client_key = :k AND at > now() - make_interval(secs => :secs))
    INSERT INTO vc_public_hit (client_key) SELECT :k FROM recent WHERE recent.n < :limit
    RETURNING id
    """
)


async def allow_public(db: AsyncSession, client: str, rate: RateLimit = PUBLIC_LIMIT) -> bool:
    """Count this attempt against the client's budget in PostgreSQL, so every app server shares
    one limit; False when the budget of the window is spent. A transaction-scoped advisory lock on
    the client makes concurrent attempts of one client (on any server) count one after another.
    The attempt is committed at once: refused or failing registrations count too."""
    key = hashlib.sha256(client.encode()).hexdigest()
    # Its own statement: the count after it must see what the lock's previous holder committed.
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"), {"lock": f"vc-public:{key}"})
    hit = await db.execute(
        _PUBLIC_HIT,
        {
            "k": key,
            "secs": rate.window.total_seconds(),
            "limit": rate.limit,
        },
    )
    allowed = hit.first() is not None
    await db.commit()
    return allowed


# The council's public code in the page's address (全国地方公共団体コード without the check digit).
MunicipalityCode = Annotated[str, PathParameter(pattern="^[0-9]{5}$", min_length=5, max_length=5)]


async def _public_centre(db: AsyncSession, municipality_code: str, operation_id: uuid.UUID) -> Centre:
    """Find the council by its public code, then act inside its tenant (RLS) for this request."""
    tenant_id = (await db.execute(select(Tenant.id).where(Tenant.municipality_code == municipality_code))).scalar()
    if tenant_id is None:
        raise Problem("not_found")
    context.update(tenant_id=tenant_id)
    await db.commit()  # the tenant is stamped when a transaction begins
    return await get_centre(db, operation_id)


class PublicRegistrationController(Controller):
    path = "/api/public/vc/{municipality_code:str}/{operation_id:uuid}"
    tags = ("vc",)
    guards = (public,)

    @get("/privacy-notice", summary="The privacy notice a volunteer agrees to before registering")
    async def privacy_notice(
        self, db_session: DbSession, municipality_code: MunicipalityCode, operation_id: FromPath[uuid.UUID]
    ) -> PrivacyNoticeOut:
        c = await _public_centre(db_session, municipality_code, operation_id)
        return PrivacyNoticeOut(
            version=PRIVACY_NOTICE_VERSION,
            ja=PRIVACY_NOTICE_JA,
            en=PRIVACY_NOTICE_EN,
            centre=c.op.name,
            label=c.label,
        )

    @post(
        "/registrations",
        status_code=HTTP_201_CREATED,
        summary="Pre-register (no account): answers the QR, which holds only an opaque signed token",
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        municipality_code: MunicipalityCode,
        operation_id: FromPath[uuid.UUID],
        data: JSONBody[PublicRegistrationIn],
    ) -> PublicRegistrationOut:
        if not await allow_public(db_session, context.current().client_addr or "unknown"):
            raise Problem("too_many_requests")
        if not data.privacy_consent or data.privacy_notice != PRIVACY_NOTICE_VERSION:
            raise Problem("vc_privacy_consent_required", errors=[FieldError("privacy_consent", "required")])
        c = await _public_centre(db_session, municipality_code, operation_id)
        if c.op.status != "active":
            raise Problem("vc_centre_closed")
        day = c.today()
        _validate(data, day)
        secret = services(request.app).settings.secret_key
        token = new_token(secret, c.op.tenant_id, c.id)
        v = _new_volunteer(
            c,
            data,
            registered_via="preregistration",
            token_hash=token_hash(token),
            privacy_notice=data.privacy_notice,
            privacy_consented_at=datetime.now(UTC),
        )
        db_session.add(v)
        await db_session.flush()
        await audit_vc(
            db_session,
            c,
            "vc.volunteer.preregister",
            "vc_volunteer",
            [v.id],
            privacy_notice=data.privacy_notice,
        )
        await db_session.commit()
        return PublicRegistrationOut(token=token, qr_svg=qr_svg(token), label=c.label)
