"""The controlled vocabularies: stable codes in the database, API and exports, with labels for people.

`vocabulary.json` beside this file is the one list, read here by the server, the import parsers and
the seed, and by the PWA through `pwa/src/vocab.ts`. Codes never change once shipped (exports,
imports and devices rely on them); labels may. Lists are in display order. This package imports
nothing of ours, so anything may import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec


class Term(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    ja: str
    en: str


class Outcome(Term, frozen=True, forbid_unknown_fields=True):
    # Raises an escalation to the district's 民生委員 and the coordinators, and how urgent it is.
    escalate: Literal["urgent", "contact"] | None = None


class Vocabulary(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    support_reasons: list[Term]  # 避難支援等を必要とする事由
    sexes: list[Term]
    mobility: list[Term]
    medical_devices: list[Term]
    recipient_classes: list[Term]  # consent recipients (災害対策基本法 49条の11)
    consent_datasets: list[Term]
    shelter_kinds: list[Term]
    shelter_hazards: list[Term]  # suitability flags, in the order of GSI's 指定緊急避難場所 layout
    hazard_zone_kinds: list[Term]
    district_levels: list[Term]
    operation_kinds: list[Term]
    # The 災害VC day (PRODUCT.md §3): needs, surveys, volunteers, equipment.
    vc_damage_kinds: list[Term]
    vc_work_types: list[Term]
    vc_need_flags: list[Term]  # priority flags of a need (独居, 要配慮, 高齢, 危機介入)
    vc_need_states: list[Term]  # 受付 → 調査 → マッチ待ち → 活動中 → 完了 / 継続
    vc_survey_verdicts: list[Term]
    vc_risks: list[Term]
    vc_skills: list[Term]
    vc_equipment: list[Term]
    vc_age_bands: list[Term]
    vc_insurance: list[Term]  # ボランティア活動保険
    drill_hazards: list[Term]  # a scenario's hazard (seed/scenarios, server/drills)
    drill_inject_kinds: list[Term]  # 状況付与: what an inject of a drill scenario does
    drill_expectation_kinds: list[Term]  # how an expectation of a scenario is judged
    outcomes: dict[str, list[Outcome]]  # per operation kind (PRODUCT.md §3 "Visits and safety checks")


VOCABULARY: Vocabulary = msgspec.json.decode(Path(__file__).with_name("vocabulary.json").read_bytes(), type=Vocabulary)


def _ja(terms: list[Term] | list[Outcome]) -> dict[str, str]:
    return {t.code: t.ja for t in terms}


# code → Japanese label, in display order.
SUPPORT_REASONS: dict[str, str] = _ja(VOCABULARY.support_reasons)
SEXES: dict[str, str] = _ja(VOCABULARY.sexes)
MOBILITY: dict[str, str] = _ja(VOCABULARY.mobility)
MEDICAL_DEVICES: dict[str, str] = _ja(VOCABULARY.medical_devices)
RECIPIENT_CLASSES: dict[str, str] = _ja(VOCABULARY.recipient_classes)
CONSENT_DATASETS: dict[str, str] = _ja(VOCABULARY.consent_datasets)
SHELTER_KINDS: dict[str, str] = _ja(VOCABULARY.shelter_kinds)
SHELTER_HAZARDS: dict[str, str] = _ja(VOCABULARY.shelter_hazards)
HAZARD_ZONE_KINDS: dict[str, str] = _ja(VOCABULARY.hazard_zone_kinds)
DISTRICT_LEVELS: dict[str, str] = _ja(VOCABULARY.district_levels)
OPERATION_KINDS: dict[str, str] = _ja(VOCABULARY.operation_kinds)
VC_DAMAGE_KINDS: dict[str, str] = _ja(VOCABULARY.vc_damage_kinds)
VC_WORK_TYPES: dict[str, str] = _ja(VOCABULARY.vc_work_types)
VC_NEED_FLAGS: dict[str, str] = _ja(VOCABULARY.vc_need_flags)
VC_NEED_STATES: dict[str, str] = _ja(VOCABULARY.vc_need_states)
VC_SURVEY_VERDICTS: dict[str, str] = _ja(VOCABULARY.vc_survey_verdicts)
VC_RISKS: dict[str, str] = _ja(VOCABULARY.vc_risks)
VC_SKILLS: dict[str, str] = _ja(VOCABULARY.vc_skills)
VC_EQUIPMENT: dict[str, str] = _ja(VOCABULARY.vc_equipment)
VC_AGE_BANDS: dict[str, str] = _ja(VOCABULARY.vc_age_bands)
VC_INSURANCE: dict[str, str] = _ja(VOCABULARY.vc_insurance)
DRILL_HAZARDS: dict[str, str] = _ja(VOCABULARY.drill_hazards)
DRILL_INJECT_KINDS: dict[str, str] = _ja(VOCABULARY.drill_inject_kinds)
DRILL_EXPECTATION_KINDS: dict[str, str] = _ja(VOCABULARY.drill_expectation_kinds)
# operation kind → outcome code → label.
OUTCOMES: dict[str, dict[str, str]] = {kind: _ja(terms) for kind, terms in VOCABULARY.outcomes.items()}
# Outcomes that raise an escalation → its level ("urgent" | "contact").
ESCALATE: dict[str, str] = {
    t.code: t.escalate for terms in VOCABULARY.outcomes.values() for t in terms if t.escalate is not None
}
