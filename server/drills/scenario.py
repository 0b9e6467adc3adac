"""Drill scenarios: a YAML file checked against `scenario.schema.json`, every error at its line.

The JSON Schema beside this module is the published contract (`GET /api/drills/scenario-schema`);
the few rules a schema cannot say (times within the drill, probabilities that sum to 1) are
checked here after it. A scenario that does not load never starts: `load()` raises a
`scenario_invalid` problem listing each error with its field path (`injects[3].at`) and line.
References to the tenant's data (district names, shelters) are checked when a run starts
(`server/drills/runs.py`), with the same line numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import msgspec
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from server.core.problems import FieldError, Problem

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
MAX_BYTES = 256 * 1024
_TIME = re.compile(r"^T\+(\d{1,4}):([0-5]\d)$")


def parse_time(value: str) -> int | None:
    """`T+minutes:seconds` → seconds from the drill's start; None when it is not such a time."""
    m = _TIME.match(value)
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


def format_time(seconds: float) -> str:
    s = int(seconds)
    return f"T+{s // 60}:{s % 60:02d}"


class Text(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ja: str
    en: str | None = None


class Hazard(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str
    magnitude: float | None = None
    intensity: str | None = None
    river: str | None = None
    level: int | None = None


class Area(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    districts: list[str] = []
    polygon: list[list[list[float]]] | None = None
    hazard_zone_kinds: list[str] = []


class Targets(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    first_report_minutes: int | None = None
    completion_minutes: int | None = None


class Bots(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    walk_kmh: float = 3.0
    detour: float = 1.3
    hazard_slowdown: float = 0.5
    start_delay_minutes: float = 5.0
    outcomes: dict[str, float] = msgspec.field(default_factory=lambda: {"safe": 1.0})
    acknowledge_minutes: float = 3.0
    # VC bots (the desk and the teams it sends out)
    desk_minutes: float = 5.0
    survey_minutes: float = 30.0
    work_minutes: float = 120.0
    team_size: int = 5
    done_share: float = 0.7
    near_miss_share: float = 0.2
    enrol_uninsured: bool = True


class Role(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: str
    played_by: Literal["people", "bots"]
    bots: Bots | None = None


class NeedSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    work_types: list[str] = []
    damage_kinds: list[str] = []
    equipment: list[str] = []
    flags: list[str] = []
    people: int = 3
    needs_truck: bool = False


class VcPart(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    centre: str | None = None
    district: str | None = None
    base: list[float] | None = None
    equipment: dict[str, int] = {}


VC_INJECTS = ("need_phoned_in", "volunteer_walk_in", "volunteer_injured", "equipment_lost")
VC_EXPECTATIONS = ("vc_no_dispatch_without_insurance", "vc_dispatch_within", "vc_needs_closed_by")


class Inject(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    at: str
    kind: str
    message: Text
    audience: str = "all"
    district: str | None = None
    outcome: str | None = None
    count: int = 1
    minutes: int | None = None
    line: list[list[float]] | None = None
    shelter: str | None = None
    need: NeedSpec | None = None
    duplicates: int = 0
    uninsured: int = 0
    minors: int = 0
    group: str | None = None
    equipment: str | None = None

    @property
    def at_s(self) -> int:
        return parse_time(self.at) or 0


class Expectation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str
    text: Text
    role: str | None = None
    minutes: int | None = None
    district: str | None = None
    percent: float | None = None
    by: str | None = None

    @property
    def by_s(self) -> int | None:
        return parse_time(self.by) if self.by else None


class Scenario(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    hazard: Hazard
    area: Area
    start: str
    duration: str
    injects: list[Inject]
    description: str | None = None
    exercise: Literal["safety_check", "vc"] = "safety_check"
    vc: VcPart = VcPart()
    targets: Targets = Targets()
    roles: list[Role] = []
    expectations: list[Expectation] = []

    @property
    def duration_s(self) -> int:
        return parse_time(self.duration) or 0

    def bots_for(self, role: str) -> Bots | None:
        for r in self.roles:
            if r.role == role and r.played_by == "bots":
                return r.bots or Bots()
        return None


class Loaded(msgspec.Struct, frozen=True):
    """A valid scenario, its source text, and the line of every field (for errors found later)."""

    scenario: Scenario
    source: str
    lines: dict[str, int]

    def line(self, field: str) -> int | None:
        return self.lines.get(field)


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


_formats = FormatChecker(formats=())


@_formats.checks("drill-time")
def _is_drill_time(value: object) -> bool:
    return not isinstance(value, str) or parse_time(value) is not None


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value).tzinfo is not None


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=_formats)


def field_name(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


MAX_NODES = 50_000  # YAML aliases can make a small file a huge tree ("billion laughs")


class _TooBig(Exception):
    pass


def _plain(node: Any, path: tuple[str | int, ...], lines: dict[str, int]) -> Any:
    """The YAML tree as JSON values, noting each field's 1-based line on the way."""
    lines["#nodes"] = lines.get("#nodes", 0) + 1
    if lines["#nodes"] > MAX_NODES or len(path) > 32:
        raise _TooBig
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = (*path, str(key))
            lines[field_name(sub)] = node.lc.key(key)[0] + 1
            out[str(key)] = _plain(value, sub, lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            sub = (*path, i)
            lines[field_name(sub)] = node.lc.item(i)[0] + 1
            items.append(_plain(value, sub, lines))
        return items
    if hasattr(node, "isoformat"):  # YAML reads an unquoted timestamp as a datetime
        return node.isoformat()
    if isinstance(node, bool) or node is None:
        return node
    for plain in (int, float, str):  # ruamel's scalar subclasses (ScalarFloat, …) as the plain type
        if isinstance(node, plain):
            return plain(node)
    return str(node)  # a tagged scalar or anything else YAML may build: text, which the schema judges


def _line_of(lines: dict[str, int], path: Sequence[str | int]) -> int | None:
    """The line of the deepest field of `path` that exists in the file."""
    for n in range(len(path), 0, -1):
        found = lines.get(field_name(path[:n]))
        if found is not None:
            return found
    return 1


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _error(e: ValidationError, lines: dict[str, int]) -> FieldError:
    path = list(e.absolute_path)
    name = field_name(path)
    line = _line_of(lines, path)
    if e.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", e.message)
        sub = [*path, missing[0]] if missing else path
        return FieldError(
            field_name(sub),
            "required",
            line=line,
            en=f"{field_name(sub)}: this field is required.",
            ja=f"{field_name(sub)}: 必須項目です。",
        )
    if e.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", e.message)
        sub = [*path, extra[0]] if extra else path
        return FieldError(
            field_name(sub),
            "unknown_field",
            line=_line_of(lines, sub),
            en=f"{field_name(sub)}: unknown field.",
            ja=f"{field_name(sub)}: 不明な項目です。",
        )
    if e.validator == "format" and e.validator_value == "drill-time":
        return FieldError(
            name,
            "not_a_time",
            line=line,
            en=f"{name}: '{_shown(e.instance)}' is not a time (T+minutes:seconds, e.g. T+9:30).",
            ja=f"{name}: 「{_shown(e.instance)}」は時刻ではありません（T+分:秒、例 T+9:30）。",
        )
    if e.validator == "format":
        return FieldError(
            name,
            "invalid",
            line=line,
            en=f"{name}: '{_shown(e.instance)}' is not a date and time with its offset (2027-01-15T10:00:00+09:00).",
            ja=f"{name}: 「{_shown(e.instance)}」は時差付きの日時ではありません（例 2027-01-15T10:00:00+09:00）。",
        )
    if e.validator in ("enum", "const"):
        values: list[Any] = (
            list(cast(Sequence[Any], e.validator_value)) if e.validator == "enum" else [e.validator_value]
        )
        allowed = ", ".join(map(str, values))
        return FieldError(
            name,
            "invalid",
            line=line,
            en=f"{name}: '{_shown(e.instance)}' is not one of: {allowed}.",
            ja=f"{name}: 「{_shown(e.instance)}」は使えません（使える値: {allowed}）。",
        )
    if e.validator == "type":
        return FieldError(
            name,
            "invalid_type",
            line=line,
            en=f"{name}: should be of type {e.validator_value}.",
            ja=f"{name}: 値の型が正しくありません（{e.validator_value}）。",
        )
    if e.validator in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
    ):
        return FieldError(
            name,
            "out_of_range",
            line=line,
            en=f"{name}: {e.message}.",
            ja=f"{name}: 値が範囲外です（{e.validator} {e.validator_value}）。",
        )
    return FieldError(name, "invalid", line=line, en=f"{name}: {e.message}.", ja=f"{name}: 値が正しくありません。")


def _rules(s: Scenario, lines: dict[str, int]) -> list[FieldError]:
    """What the schema cannot say."""
    errors: list[FieldError] = []
    end = s.duration_s

    def late(name: str, value: str) -> None:
        errors.append(
            FieldError(
                name,
                "out_of_range",
                line=lines.get(name),
                en=f"{name}: {value} is after the drill ends ({s.duration}).",
                ja=f"{name}: {value} は訓練の終了（{s.duration}）より後です。",
            )
        )

    def not_vc(name: str, value: str) -> None:
        errors.append(
            FieldError(
                name,
                "invalid",
                line=lines.get(name),
                en=f"{name}: '{value}' belongs to a volunteer-centre drill (exercise: vc).",
                ja=f"{name}: 「{value}」は災害VC訓練（exercise: vc）でだけ使えます。",
            )
        )

    def too_many(name: str, what_en: str, what_ja: str) -> None:
        errors.append(
            FieldError(
                name,
                "out_of_range",
                line=lines.get(name),
                en=f"{name}: more {what_en} than the count.",
                ja=f"{name}: {what_ja}が人数（count）を超えています。",
            )
        )

    for i, inj in enumerate(s.injects):
        if inj.at_s > end:
            late(f"injects[{i}].at", inj.at)
        if inj.kind in VC_INJECTS and s.exercise != "vc":
            not_vc(f"injects[{i}].kind", inj.kind)
        if inj.uninsured + inj.minors > inj.count:
            too_many(f"injects[{i}].uninsured", "uninsured and minors", "保険未加入と未成年の合計")
        if inj.duplicates > inj.count:
            too_many(f"injects[{i}].duplicates", "repeat calls", "重複の電話")
    for i, exp in enumerate(s.expectations):
        if exp.by_s is not None and exp.by_s > end:
            late(f"expectations[{i}].by", exp.by or "")
        if exp.kind in VC_EXPECTATIONS and s.exercise != "vc":
            not_vc(f"expectations[{i}].kind", exp.kind)
    for i, role in enumerate(s.roles):
        if role.bots is not None and abs(sum(role.bots.outcomes.values()) - 1.0) > 1e-6:
            name = f"roles[{i}].bots.outcomes"
            errors.append(
                FieldError(
                    name,
                    "invalid",
                    line=lines.get(name),
                    en=f"{name}: the probabilities add up to {sum(role.bots.outcomes.values()):g}, not 1.",
                    ja=f"{name}: 確率の合計が {sum(role.bots.outcomes.values()):g} です（合計を1にしてください）。",
                )
            )
    if s.area.polygon is not None:
        from shapely.geometry import Polygon

        try:
            valid = Polygon(s.area.polygon[0], s.area.polygon[1:]).is_valid
        except (ValueError, TypeError):
            valid = False
        if not valid:
            errors.append(
                FieldError(
                    "area.polygon",
                    "invalid",
                    line=lines.get("area.polygon"),
                    en="area.polygon: not a valid polygon (its ring crosses itself or is too short).",
                    ja="area.polygon: 正しい多角形ではありません（輪郭が交差しているか、点が足りません）。",
                )
            )
    t = s.targets
    if t.first_report_minutes and t.completion_minutes and t.completion_minutes < t.first_report_minutes:
        errors.append(
            FieldError(
                "targets.completion_minutes",
                "invalid",
                line=lines.get("targets.completion_minutes"),
                en="targets.completion_minutes: must not be before first_report_minutes.",
                ja="targets.completion_minutes: 完了目標は初回報告目標より後にしてください。",
            )
        )
    return errors


def check(source: str) -> tuple[Loaded | None, list[FieldError]]:
    """Parse and validate; the loaded scenario, or None and every error found (schema errors in
    file order)."""
    if len(source.encode("utf-8")) > MAX_BYTES:
        return None, [
            FieldError(
                "(root)",
                "too_long",
                en=f"A scenario file is at most {MAX_BYTES // 1024} kB.",
                ja=f"シナリオのファイルは{MAX_BYTES // 1024}kBまでです。",
            )
        ]
    try:
        tree = YAML(typ="rt", pure=True).load(source)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = (e.problem or e.context or "").strip()
        return None, [
            FieldError(
                "(root)",
                "invalid",
                line=line,
                en=f"Not valid YAML: {what} (line {line}).",
                ja=f"YAMLとして読めません: {what}（{line}行目）。",
            )
        ]
    except Exception as e:  # noqa: BLE001 (whatever the YAML library raises, the answer is "not YAML", never a 500)
        return None, [
            FieldError("(root)", "invalid", en=f"Not valid YAML: {type(e).__name__}.", ja="YAMLとして読めません。")
        ]
    lines: dict[str, int] = {}
    try:
        data = _plain(tree, (), lines)
    except (_TooBig, RecursionError):
        return None, [
            FieldError(
                "(root)",
                "too_long",
                en=f"The scenario is too large or too deeply nested once its aliases"
                f" are expanded (at most {MAX_NODES:,} values, 32 levels).",
                ja=f"エイリアスを展開するとシナリオが大きすぎるか、入れ子が深すぎます（{MAX_NODES:,}個・32段まで）。",
            )
        ]
    lines.pop("#nodes", None)
    found = sorted(
        _validator().iter_errors(data),
        key=lambda e: (_line_of(lines, list(e.absolute_path)) or 0, field_name(list(e.absolute_path))),
    )
    if found:
        seen: set[tuple[str, str]] = set()
        errors = []
        for err in found:
            fe = _error(err, lines)
            if (fe.field, fe.code) not in seen:  # `if/then` repeats a branch's error; show it once
                seen.add((fe.field, fe.code))
                errors.append(fe)
        return None, errors
    try:
        scenario = msgspec.convert(data, Scenario)
    except msgspec.ValidationError as exc:  # what JSON Schema lets through and Python types do not (1.0 as a count)
        at = re.search(r"at `\$\.?(.*)`", str(exc))
        name = at.group(1) if at else "(root)"
        return None, [
            FieldError(
                name or "(root)",
                "invalid_type",
                line=lines.get(name),
                en=f"{name}: {str(exc).split(' - at ')[0]}.",
                ja=f"{name}: 値の型が正しくありません。",
            )
        ]
    errors = _rules(scenario, lines)
    if errors:
        return None, errors
    return Loaded(scenario=scenario, source=source, lines=lines), []


def load(source: str) -> Loaded:
    """A valid scenario, or a `scenario_invalid` problem with every error and its line."""
    loaded, errors = check(source)
    if loaded is None:
        raise Problem("scenario_invalid", errors=errors)
    return loaded


SEED_DIR = Path(__file__).resolve().parents[2] / "seed" / "scenarios"


def seed_scenarios() -> dict[str, str]:
    """The scenarios shipped in `seed/scenarios/`: file stem → YAML text."""
    if not SEED_DIR.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.yaml"))}
