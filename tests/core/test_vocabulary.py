"""One vocabulary: `vocab/vocabulary.json` holds exactly the codes the database and the API accept.

The PWA reads the same file (pwa/src/vocab.test.ts checks its side); here the server's: the CHECK
constraints of the migrated database, the msgspec enums of the request bodies, and the constants
the validators use.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from server.operations.schemas import OperationIn
from server.registry.api_places import DistrictIn
from server.registry.schemas import PersonIn

JSON = json.loads((Path(vocab.__file__).with_name("vocabulary.json")).read_text(encoding="utf-8"))


def codes(kind: str) -> list[str]:
    return [t["code"] for t in JSON[kind]]


# (table, constraint) → vocabulary whose codes the CHECK lists.
CHECKS = {
    ("district", "ck_district_level_known"): "district_levels",
    ("person", "ck_person_sex_known"): "sexes",
    ("consent", "ck_consent_recipient_class_known"): "recipient_classes",
    ("consent", "ck_consent_dataset_known"): "consent_datasets",
    ("shelter", "ck_shelter_kind_known"): "shelter_kinds",
    ("hazard_zone", "ck_hazard_zone_kind_known"): "hazard_zone_kinds",
    ("operation", "ck_operation_kind_known"): "operation_kinds",
    ("vc_need", "ck_vc_need_state_known"): "vc_need_states",
    ("vc_survey", "ck_vc_survey_verdict_known"): "vc_survey_verdicts",
    ("vc_volunteer", "ck_vc_volunteer_age_band_known"): "vc_age_bands",
    ("vc_volunteer", "ck_vc_volunteer_insurance_known"): "vc_insurance",
}


async def _check_values(engine: AsyncEngine, table: str, name: str) -> set[str]:
    async with engine.connect() as conn:
        definition = (
            await conn.execute(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
                    " AND conname = :n"
                ),
                {"t": table, "n": name},
            )
        ).scalar_one()
    return set(re.findall(r"'([^']*)'::", definition))


@pytest.mark.parametrize(("table", "constraint"), list(CHECKS))
async def test_the_database_checks_accept_exactly_the_vocabulary(
    owner_engine: AsyncEngine, table: str, constraint: str
) -> None:
    assert await _check_values(owner_engine, table, constraint) == set(codes(CHECKS[table, constraint]))


async def test_escalation_levels_are_the_ones_the_database_accepts(owner_engine: AsyncEngine) -> None:
    levels = {o["escalate"] for outcomes in JSON["outcomes"].values() for o in outcomes if "escalate" in o}
    assert levels == await _check_values(owner_engine, "escalation", "ck_escalation_level_known")


@pytest.mark.parametrize(
    ("struct", "field", "kind"),
    [(PersonIn, "sex", "sexes"), (DistrictIn, "level", "district_levels"), (OperationIn, "kind", "operation_kinds")],
)
def test_request_bodies_enumerate_the_vocabulary(struct: Any, field: str, kind: str) -> None:
    assert list(typing.get_args(typing.get_type_hints(struct)[field])) == codes(kind)


def test_the_server_constants_are_the_json_in_display_order() -> None:
    for kind in (
        "support_reasons",
        "sexes",
        "mobility",
        "medical_devices",
        "recipient_classes",
        "consent_datasets",
        "shelter_kinds",
        "shelter_hazards",
        "hazard_zone_kinds",
        "district_levels",
        "operation_kinds",
    ):
        assert list(getattr(vocab, kind.upper()).items()) == [(t["code"], t["ja"]) for t in JSON[kind]], kind
    assert {k: list(v.items()) for k, v in vocab.OUTCOMES.items()} == {
        k: [(t["code"], t["ja"]) for t in v] for k, v in JSON["outcomes"].items()
    }
    assert vocab.ESCALATE == {"emergency": "urgent", "rescue": "urgent", "injured": "urgent", "contact": "contact"}


def test_every_term_has_a_unique_code_and_both_labels() -> None:
    lists = {k: v for k, v in JSON.items() if k != "outcomes"}
    lists |= {f"outcomes.{k}": v for k, v in JSON["outcomes"].items()}
    for kind, terms in lists.items():
        listed = [t["code"] for t in terms]
        assert len(listed) == len(set(listed)), kind
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in listed), kind
        assert all(t["ja"].strip() and t["en"].strip() for t in terms), kind
    # Outcomes per operation kind; one outcome code means one thing (the PWA labels them by code alone).
    assert list(JSON["outcomes"]) == codes("operation_kinds")
    every = [t["code"] for terms in JSON["outcomes"].values() for t in terms]
    assert len(every) == len(set(every))
