"""Drill scenarios: the shipped ones load; a broken one names the line and the field; the
schema is served at a stable URL and its codes are the vocabulary's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vocab
from server.core.problems import Problem
from server.drills import scenario as scenarios

EARTHQUAKE = scenarios.seed_scenarios()["kasama-earthquake-m68"]
VOCAB = json.loads((Path(vocab.__file__).with_name("vocabulary.json")).read_text(encoding="utf-8"))


def codes(kind: str) -> list[str]:
    return [t["code"] for t in VOCAB[kind]]


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth]


def test_the_shipped_scenarios_load() -> None:
    shipped = scenarios.seed_scenarios()
    assert {"kasama-earthquake-m68", "kasama-hinuma-flood", "kasama-vc-day"} <= set(shipped)
    loaded = {name: scenarios.load(text).scenario for name, text in shipped.items()}
    quake, flood, vc = loaded["kasama-earthquake-m68"], loaded["kasama-hinuma-flood"], loaded["kasama-vc-day"]
    assert (quake.hazard.kind, quake.hazard.magnitude, quake.exercise) == ("earthquake", 6.8, "safety_check")
    assert quake.bots_for("watcher") is not None
    # The flood is written against districts and a hazard-zone kind, never a zone's id.
    assert (flood.hazard.kind, flood.hazard.river, flood.area.hazard_zone_kinds) == ("flood", "涸沼川", ["flood"])
    assert set(flood.area.districts) == {"友部地区", "岩間地区"}
    assert vc.exercise == "vc" and {i.kind for i in vc.injects} >= {"need_phoned_in", "volunteer_walk_in"}


def errors_of(text: str) -> list[dict[str, object]]:
    with pytest.raises(Problem) as raised:
        scenarios.load(text)
    assert raised.value.code == "scenario_invalid"
    return [e.as_dict() for e in raised.value.errors]


def test_a_bad_time_names_the_inject_field_and_its_line() -> None:
    text = EARTHQUAKE.replace('at: "T+40:00"', 'at: "T+9:75"')
    [error] = errors_of(text)
    assert error["field"] == "injects[3].at"
    assert error["code"] == "not_a_time"
    assert error["line"] == line_of(text, 'at: "T+9:75"')
    assert "injects[3].at: 'T+9:75' is not a time" in error["message"]["en"]  # type: ignore[index]
    assert "「T+9:75」は時刻ではありません" in error["message"]["ja"]  # type: ignore[index]


def test_every_error_is_listed_in_file_order_with_its_line() -> None:
    text = (
        EARTHQUAKE.replace("kind: power_cut", "kind: power_outage")
        .replace("  magnitude: 6.8", "  magnitude: 6.8\n  colour: red")
        .replace("    minutes: 10\n", "")
    )
    errors = errors_of(text)
    assert [(e["field"], e["code"], e["line"]) for e in errors] == [
        ("hazard.colour", "unknown_field", line_of(text, "colour: red")),
        ("injects[3].kind", "invalid", line_of(text, "kind: power_outage")),
        ("expectations[0].minutes", "required", line_of(text, "kind: escalations_acknowledged_within")),
    ]
    assert "power_cut" in errors[1]["message"]["en"]  # type: ignore[index]  # the codes one may use


@pytest.mark.parametrize(
    ("edit", "field", "code"),
    [
        (
            (
                "kind: household_report\n    audience: coordinator\n    district: 友部地区\n    outcome: rescue",
                "kind: household_report\n    audience: coordinator\n    district: 友部地区",
            ),
            "injects[1].outcome",
            "required",
        ),
        (('duration: "T+240:00"', 'duration: "T+60:00"'), "injects[5].at", "out_of_range"),
        (("safe: 0.82", "safe: 0.9"), "roles[0].bots.outcomes", "invalid"),
        (('start: "2027-01-15T10:00:00+09:00"', 'start: "2027-01-15 10:00"'), "start", "invalid"),
        (("  first_report_minutes: 60", "  first_report_minutes: 600"), "targets.completion_minutes", "invalid"),
        (("title: ", "titel: "), "title", "required"),
    ],
)
def test_rules_point_at_their_field(edit: tuple[str, str], field: str, code: str) -> None:
    text = EARTHQUAKE.replace(*edit)
    assert text != EARTHQUAKE
    errors = errors_of(text)
    assert (field, code) in [(e["field"], e["code"]) for e in errors], errors
    assert all(isinstance(e.get("line"), int) for e in errors)


def test_broken_yaml_names_its_line() -> None:
    text = EARTHQUAKE.replace("  districts: [笠間地区, 友部地区, 岩間地区]", "  districts: [笠間地区, 友部地区")
    [error] = errors_of(text)
    assert error["field"] == "(root)" and isinstance(error["line"], int)
    assert "YAML" in error["message"]["en"]  # type: ignore[index]
    assert errors_of("- just\n- a list\n")[0]["code"] == "invalid_type"


def test_the_schema_lists_exactly_the_vocabulary() -> None:
    """The published schema is a file of its own; its codes must be the vocabulary's."""
    s = scenarios.schema()
    defs = s["$defs"]
    assert defs["inject"]["properties"]["kind"]["enum"] == codes("drill_inject_kinds")
    assert defs["expectation"]["properties"]["kind"]["enum"] == codes("drill_expectation_kinds")
    assert s["properties"]["hazard"]["properties"]["kind"]["enum"] == codes("drill_hazards")
    assert s["properties"]["area"]["properties"]["hazard_zone_kinds"]["items"]["enum"] == codes("hazard_zone_kinds")
    safety = [t["code"] for t in VOCAB["outcomes"]["safety_check"]]
    assert defs["inject"]["properties"]["outcome"]["enum"] == safety
    assert defs["bots"]["properties"]["outcomes"]["propertyNames"]["enum"] == safety


async def test_the_schema_is_served_and_checks_answer_with_lines(client_factory, make_tenant) -> None:
    anonymous = client_factory()
    resp = await anonymous.get("/api/drills/scenario-schema")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/schema+json")
    assert resp.json() == scenarios.schema()

    tenant = await make_tenant(("staff", "watcher"))
    staff = client_factory()
    assert (await staff.login(tenant.accounts["staff"].login, tenant.accounts["staff"].password)).status_code == 200
    ok = await staff.send_json("POST", "/api/drills/scenarios/check", {"yaml": EARTHQUAKE})
    assert ok.status_code == 200, ok.text
    assert ok.json()["injects"] == 6 and ok.json()["hazard"] == "earthquake"

    bad = await staff.send_json(
        "POST", "/api/drills/scenarios/check", {"yaml": EARTHQUAKE.replace('at: "T+40:00"', 'at: "T+9:75"')}
    )
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "scenario_invalid"
    assert body["errors"][0]["field"] == "injects[3].at"
    assert body["errors"][0]["line"] == line_of(EARTHQUAKE, 'at: "T+40:00"')

    listed = await staff.get("/api/drills/scenarios")
    assert {s["name"] for s in listed.json()} >= {"kasama-earthquake-m68", "kasama-hinuma-flood", "kasama-vc-day"}
    one = await staff.get("/api/drills/scenarios/kasama-hinuma-flood")
    assert one.status_code == 200 and "涸沼川" in one.json()["yaml"]
    assert (await staff.get("/api/drills/scenarios/nope")).status_code == 404

    watcher = client_factory()
    assert (
        await watcher.login(tenant.accounts["watcher"].login, tenant.accounts["watcher"].password)
    ).status_code == 200
    assert (await watcher.send_json("POST", "/api/drills/scenarios/check", {"yaml": EARTHQUAKE})).status_code == 403


def test_an_alias_bomb_is_refused_not_expanded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
        f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    [error] = errors_of(bomb)
    assert error["code"] == "too_long"
    [tagged] = errors_of(EARTHQUAKE.replace("magnitude: 6.8", "magnitude: !!python/object:os.system 6.8"))
    assert tagged["field"] == "(root)" or tagged["field"] == "hazard.magnitude"


def test_values_the_schema_allows_but_types_do_not_and_bad_polygons_are_scenario_errors() -> None:
    [count] = errors_of(EARTHQUAKE.replace("    outcome: rescue\n", "    outcome: rescue\n    count: 1.5\n", 1))
    assert count["field"] == "injects[1].count"
    as_float = EARTHQUAKE.replace("    outcome: rescue\n", "    outcome: rescue\n    count: 2.0\n", 1)
    # JSON Schema counts 2.0 as an integer; the typed scenario does not: a field error, not a 500.
    [float_count] = errors_of(as_float)
    assert (float_count["field"], float_count["code"]) == ("injects[1].count", "invalid_type")
    bowtie = EARTHQUAKE.replace(
        "  districts: [笠間地区, 友部地区, 岩間地区]",
        "  polygon: [[[140.3, 36.3], [140.4, 36.4], [140.4, 36.3], [140.3, 36.4], [140.3, 36.3]]]",
    )
    [error] = errors_of(bowtie)
    assert error["field"] == "area.polygon" and error["line"] == line_of(bowtie, "polygon:")


def test_the_vc_codes_of_the_schema_are_the_vocabulary() -> None:
    defs = scenarios.schema()["$defs"]
    need = defs["inject"]["properties"]["need"]["properties"]
    assert defs["equipment"]["enum"] == codes("vc_equipment")
    assert need["work_types"]["items"]["enum"] == codes("vc_work_types")
    assert need["damage_kinds"]["items"]["enum"] == codes("vc_damage_kinds")
    assert need["flags"]["items"]["enum"] == codes("vc_need_flags")
