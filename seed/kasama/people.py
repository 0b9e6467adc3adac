"""Synthetic people for the Kasama demo and for benchmarks. Never real people.

`generate_demo(seed)` builds ~2,500 support-needing households (~3,000 people) in Kasama, with
consent, evacuation plans, ~600 neighbourhood watchers and ~150 民生委員, placed with the committed
public facts in seed/data (town points, shelters, our districts). `generate_prefecture(seed)` builds
100,000+ households over an Ibaraki-sized box with synthetic districts, in chunks.

Everything is deterministic from the seed number: each phase draws from its own
`random.Random(f"{seed}/<phase>")`, never the global generator, and nothing iterates over sets.
Names are random combinations from `names.py`; phone numbers are random digits in realistic forms
(they may coincide with real numbers: never dial them).

Where people live: households cluster in neighbourhoods (近所, a few hundred metres across) around
points near each town's representative point; watchers live in most of the same neighbourhoods (so
a 300 m walk usually finds two), and about one neighbourhood in ten has none (pockets to find).
Every point is reject-sampled until it lies inside a branch district (hence inside the outline).
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any, TypeVar

import msgspec
import shapely
from shapely import STRtree
from shapely.geometry import MultiPoint, Point, box, mapping, shape
from shapely.geometry.base import BaseGeometry

from seed.kasama import facts
from seed.kasama.facts import District, LocalMetric, Shelter
from seed.kasama.names import (
    EXCLUDED_FULL_NAMES,
    FEMALE_OLDER,
    FEMALE_YOUNGER,
    MALE_OLDER,
    MALE_YOUNGER,
    SURNAMES,
    number_kana,
)
from vocab import CONSENT_DATASETS, RECIPIENT_CLASSES

REFERENCE_DATE = date(2025, 4, 1)  # "today" of the demo: ages, consent and plan dates are before it
COORD_DIGITS = 7  # ~1 cm

# ---------------------------------------------------------------------------------------------
# Record types
# ---------------------------------------------------------------------------------------------


class DemoConsent(msgspec.Struct, frozen=True):
    """A consent that was given (a row exists only for a given consent, as in the registry)."""

    recipient_class: str  # vocab.RECIPIENT_CLASSES
    dataset: str  # vocab.CONSENT_DATASETS: "roster" | "plan"
    consented_on: date
    source: str  # e.g. "同意書(2023-02 郵送)"
    withdrawn_on: date | None = None  # set when the consent was later withdrawn

    @property
    def effective(self) -> bool:
        return self.withdrawn_on is None


class DemoContact(msgspec.Struct, frozen=True):
    """Emergency contact (family living elsewhere); shape of registry EmergencyContact."""

    name: str
    phone: str
    relationship: str  # "長男", "長女", "姪", …


class DemoSupporter(msgspec.Struct, frozen=True):
    """A named supporter of a plan: a nearby watcher (dict shape of EvacuationPlan.supporters)."""

    watcher_key: str  # DemoWatcher.key (role "watcher")
    name: str
    phone: str
    relationship: str  # "見守り協力員"
    role: str  # "primary" | "backup"
    consented_on: date | None  # the supporter's own consent to be named; None = not yet given
    withdrawn_on: date | None = None


class DemoPlan(msgspec.Struct, frozen=True):
    key: str
    shelter_source_id: str  # nearest designated shelter (kasama_shelters.json source_id)
    shelter_name: str
    distance_m: int  # straight line, home → shelter
    transport: str  # "walk" | "walk_assisted" | "wheelchair" | "vehicle"
    route_notes: str
    supporters: list[DemoSupporter]
    made_on: date


class DemoPerson(msgspec.Struct, frozen=True):
    key: str
    family_name: str
    given_name: str
    family_kana: str
    given_kana: str
    name: str  # "佐藤 幸子"
    kana: str  # "サトウ サチコ" (katakana)
    sex: str  # vocab.SEXES: "female" | "male"
    birth_date: date
    phone: str | None
    support_reasons: list[str]  # vocab.SUPPORT_REASONS, at least one
    care_level: str | None  # "要支援1"–"要支援2", "要介護1"–"要介護5"; None = not certified
    mobility: str  # vocab.MOBILITY
    medical_devices: list[str]  # vocab.MEDICAL_DEVICES
    communication_needs: str | None  # e.g. "耳が遠い。ゆっくり大きな声で、筆談も可。"
    emergency_contacts: list[DemoContact]
    notes: str | None  # e.g. "身体障害者手帳2級（肢体不自由）"
    consents: list[DemoConsent]  # given consents only; empty = none given (refused or no answer)
    plan: DemoPlan | None


class DemoHousehold(msgspec.Struct, frozen=True):
    key: str
    lat: float
    lon: float
    address: str  # "茨城県笠間市中央三丁目5-12"
    town: str  # 大字・町丁目 from the gazetteer
    district_code: str  # the branch district containing (lon, lat)
    people: list[DemoPerson]


class DemoWatcher(msgspec.Struct, frozen=True):
    key: str
    name: str
    kana: str
    role: str  # "watcher" (見守り協力員) | "commissioner" (民生委員)
    lat: float
    lon: float
    capacity: int  # households this person may watch: 5 for watchers, 0 for commissioners
    district_code: str  # branch: where the watcher lives; the assigned branch for commissioners
    phone: str


class DemoData(msgspec.Struct, frozen=True):
    seed: int
    reference_date: date
    households: list[DemoHousehold]
    watchers: list[DemoWatcher]  # both roles, watchers first

    def people(self) -> Iterator[DemoPerson]:
        for h in self.households:
            yield from h.people

    @property
    def commissioners(self) -> list[DemoWatcher]:
        return [w for w in self.watchers if w.role == "commissioner"]


WATCHER_CAPACITY = 5
DEMO_POCKET_SHARE = 0.04  # households in remote neighbourhoods with no watcher living nearby
COMMISSIONER_CAPACITY = 0  # 民生委員 lead a district and receive escalations; they are not auto-paired

# ---------------------------------------------------------------------------------------------
# Geography helpers
# ---------------------------------------------------------------------------------------------


class Locator:
    """Which branch district contains each point (vectorised STRtree query, lon/lat)."""

    def __init__(self, districts: dict[str, BaseGeometry]) -> None:
        self.codes = list(districts)
        self.geoms = [districts[c] for c in self.codes]
        for g in self.geoms:
            shapely.prepare(g)
        self.tree = STRtree(self.geoms)

    def locate(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        out: list[str | None] = [None] * len(lons)
        if not lons:
            return out
        inp, hit = self.tree.query(shapely.points(lons, lats), predicate="within")
        for i, j in zip(inp.tolist(), hit.tolist(), strict=True):
            if out[i] is None:
                out[i] = self.codes[j]
        return out


@dataclass
class _Town:
    name: str  # address town (大字・町丁目)
    prefix: str  # "茨城県笠間市"
    lon: float
    lat: float
    weight: float
    spread_m: float  # sigma of neighbourhood centres around the town point
    chome: bool  # 丁目 (urban block numbering: 5-12) or 大字 (rural: 1234-5)
    cell: BaseGeometry | None = None  # lon/lat; neighbourhood centres stay inside when given


@dataclass
class _Hamlet:
    town: int
    lon: float
    lat: float
    district_code: str
    households: int = 0
    first_household: int = 0  # global index of its first household


@dataclass
class _World:
    seed: int
    metric: LocalMetric
    locator: Locator
    towns: list[_Town]
    shelters: list[Shelter]  # designated shelters for plans
    area_code: str  # phone area code
    household_sigma_m: float = 120.0
    watcher_sigma_m: float = 110.0
    hamlets: list[_Hamlet] = field(default_factory=list)
    shelter_tree: STRtree | None = None

    def __post_init__(self) -> None:
        self.shelter_tree = STRtree([Point(self.metric.to_xy(s.lon, s.lat)) for s in self.shelters])


def _rnd(v: float) -> float:
    return round(v, COORD_DIGITS)


def _place(
    rng: random.Random,
    world: _World,
    centres: Sequence[tuple[float, float, float]],
    accept: Callable[[int, float, float, str], bool] | None = None,
    max_rounds: int = 60,
) -> list[tuple[float, float, str]]:
    """Jitter each (lon, lat, sigma_m) by a Gaussian until the point is inside a branch district
    (and `accept`s it). Batches all pending points per round, so it is fast for 100k points."""
    m = world.metric
    out: list[tuple[float, float, str] | None] = [None] * len(centres)
    pending = list(range(len(centres)))
    for rnd in range(max_rounds):
        shrink = 1.0 if rnd < 20 else 0.5 ** ((rnd - 19) / 5)  # near a boundary: pull in gradually
        lons, lats = [], []
        for i in pending:
            lon, lat, sigma = centres[i]
            lons.append(_rnd(lon + rng.gauss(0.0, sigma * shrink) / m.mx))
            lats.append(_rnd(lat + rng.gauss(0.0, sigma * shrink) / m.my))
        codes = world.locator.locate(lons, lats)
        still = []
        for i, lon, lat, code in zip(pending, lons, lats, codes, strict=True):
            if code is not None and (accept is None or accept(i, lon, lat, code)):
                out[i] = (lon, lat, code)
            else:
                still.append(i)
        pending = still
        if not pending:
            break
    for i in pending:  # centres are inside by construction: fall back to them
        lon, lat = centres[i][0], centres[i][1]
        code = world.locator.locate([lon], [lat])[0]
        if code is None or (accept is not None and not accept(i, lon, lat, code)):
            raise RuntimeError(f"cannot place a point near {lon},{lat}")
        out[i] = (lon, lat, code)
    return [p for p in out if p is not None]  # every point is placed by now (or the loop raised)


def _allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Largest-remainder split of `total` proportional to weights, each at least `minimum`."""
    n = len(weights)
    base = [minimum] * n
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("total below the minimum")
    s = sum(weights) or 1.0
    exact = [rest * w / s for w in weights]
    floors = [int(x) for x in exact]
    left = rest - sum(floors)
    order = sorted(range(n), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors, strict=True)]


def _build_hamlets(world: _World, households: int, per_hamlet: float = 9.0) -> None:
    """Split households over towns (by weight) and neighbourhoods; place neighbourhood centres."""
    rng = random.Random(f"{world.seed}/hamlets")
    counts = [0] * len(world.towns)
    for t in rng.choices(range(len(world.towns)), weights=[t.weight for t in world.towns], k=households):
        counts[t] += 1
    owners: list[int] = []
    centres: list[tuple[float, float, float]] = []
    sizes: list[list[int]] = []
    for ti, n in enumerate(counts):
        if n == 0:
            continue
        k = max(1, round(n / per_hamlet))
        split = [0] * k
        for _ in range(n):
            split[rng.randrange(k)] += 1
        town = world.towns[ti]
        for size in split:
            if size:
                owners.append(ti)
                centres.append((town.lon, town.lat, town.spread_m))
                sizes.append([size])

    def in_town_cell(i: int, lon: float, lat: float, code: str) -> bool:
        cell = world.towns[owners[i]].cell
        return cell is None or bool(shapely.contains_xy(cell, lon, lat))

    placed = _place(rng, world, centres, in_town_cell)
    start = 0
    for ti, (lon, lat, code), (size,) in zip(owners, placed, sizes, strict=True):
        world.hamlets.append(_Hamlet(ti, lon, lat, code, size, start))
        start += size


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

PARTIAL_PATTERNS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("commissioner", "council"), 0.5),
    (("commissioner", "council", "watcher"), 0.25),
    (("commissioner", "council", "fire", "police"), 0.15),
    (("commissioner", "council", "voluntary_disaster_org", "watcher"), 0.10),
)
CONSENT_SOURCES = (("郵送", 0.7), ("訪問", 0.25), ("窓口", 0.05))
ALL_CLASSES = tuple(RECIPIENT_CLASSES)
_T = TypeVar("_T")


@lru_cache(maxsize=256)
def _cumulative(weighted: tuple[tuple[Any, float], ...]) -> tuple[tuple[Any, ...], list[float]]:
    return tuple(v for v, _ in weighted), list(accumulate(w for _, w in weighted))


def _pick(rng: random.Random, weighted: tuple[tuple[_T, float], ...]) -> _T:
    """One value of (value, weight) pairs (like rng.choices(k=1), without its per-call set-up)."""
    values, cum = _cumulative(weighted)
    value: _T = values[bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]
    return value


def _date_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _name(rng: random.Random, surname: tuple[str, str], sex: str, born: int) -> tuple[str, str]:
    older = born <= 1960
    pool = (FEMALE_OLDER if older else FEMALE_YOUNGER) if sex == "female" else (MALE_OLDER if older else MALE_YOUNGER)
    while True:
        given = rng.choice(pool)
        if surname[0] + given[0] not in EXCLUDED_FULL_NAMES:
            return given


def _mobile(rng: random.Random) -> str:
    return f"0{rng.choice('98')}0-{rng.randrange(1000, 10000)}-{rng.randrange(10000):04d}"


def _landline(rng: random.Random, area_code: str) -> str:
    """10 digits: area code + exchange + 4 (0296-XX-XXXX, 029-XXX-XXXX)."""
    width = 10 - len(area_code) - 4
    exchange = rng.randrange(7 * 10 ** (width - 1), 10**width)
    return f"{area_code}-{exchange}-{rng.randrange(10000):04d}"


def _address(rng: random.Random, town: _Town) -> str:
    if town.chome:
        number = f"{rng.randint(1, 28)}-{rng.randint(1, 30)}"
    else:
        number = str(rng.randint(1, 3600))
        if rng.random() < 0.35:
            number += f"-{rng.randint(1, 25)}"
    return f"{town.prefix}{town.name}{number}"


def _elderly_birth(rng: random.Random) -> date:
    year = min(1959, int(rng.triangular(1926, 1960, 1943)))
    return _date_between(rng, date(year, 1, 1), date(year, 12, 31))


def _younger_birth(rng: random.Random) -> date:
    year = rng.randint(1961, 2008)
    return _date_between(rng, date(year, 1, 1), date(year, 12, 31))


@dataclass
class _PersonDraft:
    sex: str
    birth: date
    reasons: list[str]
    elderly: bool


@dataclass
class _Health:
    care: int | None  # 1–5 要介護, -1/-2 要支援1/2
    grade: int | None
    mobility: str
    devices: list[str]

    @property
    def care_label(self) -> str | None:
        if self.care is None:
            return None
        return f"要支援{-self.care}" if self.care < 0 else f"要介護{self.care}"


_DISABILITY_KINDS = (("肢体不自由", 0.6), ("視覚", 0.15), ("聴覚", 0.1), ("内部", 0.15))
_COMMUNICATION = {
    "聴覚": "耳が聞こえにくい。筆談か、顔を見てゆっくり話す。",
    "視覚": "目が不自由。声をかけてから肘を貸して誘導する。",
}
_ELDERLY_COMMUNICATION = (
    ("耳が遠い。ゆっくり大きな声で。", 0.6),
    ("物忘れがある。同じ説明を繰り返す、紙に書いて渡す。", 0.3),
    ("補聴器を使用。正面から話しかける。", 0.1),
)
_RELATIONSHIPS_OLDER = (("長男", 0.3), ("長女", 0.3), ("次男", 0.12), ("次女", 0.12), ("甥", 0.06), ("姪", 0.1))
_RELATIONSHIPS_YOUNGER = (("父", 0.3), ("母", 0.45), ("兄", 0.1), ("姉", 0.15))


def _health(rng: random.Random, p: _PersonDraft, needs_reason: bool) -> _Health:
    """Care level, disability grade, mobility, medical devices; adds the matching support reasons."""
    care: int | None = None
    grade: int | None = None
    r = rng.random()
    if p.elderly:
        p35 = 0.62 if needs_reason else 0.22  # family households are registered for a reason
        if r < p35:
            care = _pick(rng, ((3, 0.45), (4, 0.33), (5, 0.22)))
        elif r < p35 + 0.32:
            care = _pick(rng, ((-1, 0.2), (-2, 0.2), (1, 0.33), (2, 0.27)))
        if rng.random() < 0.10:
            grade = _pick(rng, ((1, 0.35), (2, 0.35), (3, 0.15), (4, 0.15)))
    else:
        if rng.random() < 0.45:
            grade = _pick(rng, ((1, 0.5), (2, 0.4), (3, 0.1)))
        if rng.random() < 0.05:
            care = _pick(rng, ((3, 0.5), (4, 0.3), (5, 0.2)))
    if care is not None and care >= 3:
        p.reasons.append("care_level_3_5")
    if grade is not None and grade <= 2:
        p.reasons.append("physical_disability_1_2")
    if not p.elderly:
        if rng.random() < 0.35:
            p.reasons.append("intellectual_a")
        elif rng.random() < 0.2:
            p.reasons.append("mental_1")
    if rng.random() < (0.04 if p.elderly else 0.12):
        p.reasons.append("intractable_disease")
    if not p.reasons or rng.random() < 0.02:
        p.reasons.append("other")

    if care in (4, 5):
        mobility = _pick(rng, (("bedridden", 0.55), ("wheelchair", 0.45)))
    elif care == 3:
        mobility = _pick(rng, (("wheelchair", 0.55), ("cane", 0.35), ("bedridden", 0.10)))
    elif grade is not None and grade <= 2:
        mobility = _pick(rng, (("wheelchair", 0.45), ("cane", 0.35), ("independent", 0.20)))
    elif p.elderly:
        mobility = _pick(rng, (("independent", 0.55), ("cane", 0.45)))
    else:
        mobility = "independent"

    devices: list[str] = []
    if rng.random() < 0.025:
        devices.append("home_oxygen")
    if rng.random() < 0.025:
        devices.append("dialysis")
    if mobility == "bedridden":
        if rng.random() < 0.08:
            devices.append("suction")
        if rng.random() < 0.02:
            devices.append("ventilator")
    if rng.random() < 0.008:
        devices.append("other")
    return _Health(care, grade, mobility, devices)


def _consents(rng: random.Random, wants_plan: bool) -> tuple[list[DemoConsent], date | None]:
    """Given consents of one person and the date of their 個別避難計画, if any.

    Roster: ~71 % consent for all recipient classes, ~16.5 % for some (民生委員 and 社協 at least),
    ~12.5 % none (refused or never answered: no rows); ~1 % of consenters withdrew later. A plan
    is made only with roster consent; plan consent goes to the same classes (消防・警察 a little
    less often)."""
    how = _pick(rng, CONSENT_SOURCES)
    given = _date_between(rng, date(2019, 4, 1), date(2025, 3, 15))
    r = rng.random()
    if r < 0.71:
        granted: tuple[str, ...] = ALL_CLASSES
    elif r < 0.875:
        granted = _pick(rng, PARTIAL_PATTERNS)
    else:
        return [], None  # refused or never answered: no rows
    last = REFERENCE_DATE - timedelta(days=1)
    withdrawn = None
    if rng.random() < 0.012:  # later withdrew everything
        withdrawn = _date_between(rng, min(given + timedelta(days=30), last), last)
    source = f"同意書({given.year}-{given.month:02d} {how})"
    out = [DemoConsent(cls, "roster", given, source, withdrawn) for cls in granted]
    if not wants_plan or withdrawn is not None:
        return out, None
    plan_on = _date_between(rng, min(max(given, date(2021, 6, 1)), last), last)
    source = f"個別避難計画 同意書({plan_on.year}-{plan_on.month:02d} 訪問)"
    for cls in granted:
        if cls in ("fire", "police") and rng.random() >= 0.8:
            continue
        out.append(DemoConsent(cls, "plan", plan_on, source))
    assert tuple(CONSENT_DATASETS) == ("roster", "plan")
    return out, plan_on


_TRANSPORT = {
    "independent": "walk",
    "cane": "walk_assisted",
    "wheelchair": "wheelchair",
    "bedridden": "vehicle",
}
_TRANSPORT_NOTE = {
    "walk": "徒歩で避難。",
    "walk_assisted": "杖で歩行、支援者が付き添って徒歩で避難。",
    "wheelchair": "車いすで避難、支援者が押す。",
    "vehicle": "車両で搬送（寝たきり）。家族・支援者が車を手配、困難なら消防へ連絡。",
}
_ROUTE_REMARKS = (
    "途中の水路沿いは大雨の時に通らない。",
    "坂道あり、雨天は滑りやすい。",
    "玄関に段差あり（スロープなし）。",
    "夜間は懐中電灯を持つ。",
    "お薬手帳と常備薬を持参。",
    "踏切を渡る経路は避け、県道側を回る。",
    "狭い路地に古いブロック塀あり、地震の後は広い道へ。",
    "隣家に声をかけてから出発。",
    "",
)
_DIRECTIONS = ("東", "北東", "北", "北西", "西", "南西", "南", "南東")


def _direction(dx: float, dy: float) -> str:
    return _DIRECTIONS[round(math.degrees(math.atan2(dy, dx)) / 45.0) % 8]


def _make_plan(
    rng: random.Random,
    world: _World,
    key: str,
    lon: float,
    lat: float,
    mobility: str,
    devices: list[str],
    watcher_index: _WatcherIndex,
    earliest: date,
) -> DemoPlan:
    """Plan to the nearest designated shelter, with the two nearest watchers (≤ 600 m) named."""
    m = world.metric
    x, y = m.to_xy(lon, lat)
    assert world.shelter_tree is not None
    si = int(world.shelter_tree.query_nearest(Point(x, y))[0])
    shelter = world.shelters[si]
    sx, sy = m.to_xy(shelter.lon, shelter.lat)
    dist = math.hypot(sx - x, sy - y)
    transport = _TRANSPORT[mobility]
    way = f"{_direction(sx - x, sy - y)}へ約{int(round(dist, -1))}m"
    notes = [f"{shelter.name}（{way}）。{_TRANSPORT_NOTE[transport]}"]
    if "home_oxygen" in devices:
        notes.append("在宅酸素：予備ボンベを持参、業者の連絡先を支援者と共有。")
    if "ventilator" in devices:
        notes.append("人工呼吸器：停電時は外部バッテリー、医療機関へ連絡。")
    remark = rng.choice(_ROUTE_REMARKS)
    if remark:
        notes.append(remark)
    supporters: list[DemoSupporter] = []
    for role, w in zip(("primary", "backup"), watcher_index.nearest(x, y, 2, 600.0), strict=False):
        pending = rng.random() < 0.1
        consented = None if pending else _date_between(rng, earliest, REFERENCE_DATE - timedelta(days=1))
        supporters.append(DemoSupporter(w.key, w.name, w.phone, "見守り協力員", role, consented))
    if not supporters:
        notes.append("近くに支援者がいないため、民生委員と調整中。")
    return DemoPlan(
        key=f"{key}-P",
        shelter_source_id=shelter.source_id,
        shelter_name=shelter.name,
        distance_m=round(dist),
        transport=transport,
        route_notes="".join(notes),
        supporters=supporters,
        made_on=earliest,
    )


class _WatcherIndex:
    """Nearest neighbourhood watchers (role "watcher") around a metric point."""

    def __init__(self, world: _World, watchers: Sequence[DemoWatcher]) -> None:
        self.watchers = [w for w in watchers if w.role == "watcher"]
        self.xy = [world.metric.to_xy(w.lon, w.lat) for w in self.watchers]
        self.tree = STRtree([Point(p) for p in self.xy])

    def nearest(self, x: float, y: float, k: int, max_m: float) -> list[DemoWatcher]:
        if not self.watchers:
            return []
        idx = self.tree.query(box(x - max_m, y - max_m, x + max_m, y + max_m)).tolist()
        scored = sorted((math.hypot(self.xy[i][0] - x, self.xy[i][1] - y), i) for i in idx)
        return [self.watchers[i] for d, i in scored[:k] if d <= max_m]


def _households_for(
    world: _World,
    hamlets: Sequence[_Hamlet],
    rng: random.Random,
    watcher_index: _WatcherIndex,
    key_width: int,
) -> list[DemoHousehold]:
    """Households (with people, consent and plans) of the given neighbourhoods."""
    centres: list[tuple[float, float, float]] = []
    towns: list[int] = []
    for hm in hamlets:
        t = world.towns[hm.town]
        sigma = world.household_sigma_m * (0.7 if t.chome else 1.0)
        for _ in range(hm.households):
            centres.append((hm.lon, hm.lat, sigma))
            towns.append(hm.town)
    points = _place(rng, world, centres)
    first = hamlets[0].first_household if hamlets else 0

    out: list[DemoHousehold] = []
    seen_addresses: set[str] = set()
    for n, ((lon, lat, code), ti) in enumerate(zip(points, towns, strict=True)):
        town = world.towns[ti]
        key = f"H{first + n + 1:0{key_width}d}"
        address = _address(rng, town)
        while address in seen_addresses:
            address = _address(rng, town)
        seen_addresses.add(address)
        surname = rng.choice(SURNAMES)
        landline = _landline(rng, world.area_code) if rng.random() < 0.75 else None

        kind = _pick(rng, (("alone", 0.55), ("couple", 0.30), ("family", 0.15)))
        drafts: list[_PersonDraft] = []
        if kind == "alone":
            if rng.random() < 0.9:
                sex = "female" if rng.random() < 0.68 else "male"
                drafts.append(_PersonDraft(sex, _elderly_birth(rng), ["elderly_alone"], True))
            else:
                sex = "female" if rng.random() < 0.5 else "male"
                drafts.append(_PersonDraft(sex, _younger_birth(rng), [], False))
        elif kind == "couple":
            first_sex = "female" if rng.random() < 0.5 else "male"
            drafts.append(_PersonDraft(first_sex, _elderly_birth(rng), ["elderly_only_household"], True))
            if rng.random() < 0.6:
                other = "male" if first_sex == "female" else "female"
                b = drafts[0].birth
                year = min(1959, max(1922, b.year + rng.randint(-6, 6)))
                born = _date_between(rng, date(year, 1, 1), date(year, 12, 31))
                drafts.append(_PersonDraft(other, born, ["elderly_only_household"], True))
        else:  # lives with family, registered because of care needs or a disability
            elderly = rng.random() < 0.65
            sex = "female" if rng.random() < 0.55 else "male"
            born = _elderly_birth(rng) if elderly else _younger_birth(rng)
            drafts.append(_PersonDraft(sex, born, [], elderly))
            if rng.random() < 0.12:
                sex2 = "female" if rng.random() < 0.5 else "male"
                drafts.append(_PersonDraft(sex2, _elderly_birth(rng), [], True))

        people: list[DemoPerson] = []
        for i, d in enumerate(drafts, 1):
            hl = _health(rng, d, needs_reason=(kind == "family"))
            reasons = sorted(set(d.reasons), key=list(_REASON_ORDER).index)
            given = _name(rng, surname, d.sex, d.birth.year)
            pkey = f"{key}-{i}"
            if d.elderly:
                phone = landline or (_mobile(rng) if rng.random() < 0.6 else None)
            else:
                phone = _mobile(rng) if rng.random() < 0.7 else landline
            notes = communication = None
            if hl.grade is not None:
                what = _pick(rng, _DISABILITY_KINDS)
                notes = f"身体障害者手帳{hl.grade}級（{what}）"
                communication = _COMMUNICATION.get(what)
            if communication is None and d.elderly and rng.random() < 0.12:
                communication = _pick(rng, _ELDERLY_COMMUNICATION)
            contacts = []
            if rng.random() < 0.7:
                rel = _pick(rng, _RELATIONSHIPS_OLDER if d.elderly else _RELATIONSHIPS_YOUNGER)
                csex = "female" if rel in ("長女", "次女", "姪", "母", "姉") else "male"
                cborn = d.birth.year + (rng.randint(22, 38) if d.elderly else -rng.randint(20, 35))
                cname = _name(rng, surname, csex, cborn)[0]
                contacts.append(DemoContact(f"{surname[0]} {cname}", _mobile(rng), rel))
            wants_plan = rng.random() < (0.6 if hl.mobility in ("wheelchair", "bedridden") else 0.3)
            consents, plan_on = _consents(rng, wants_plan)
            plan = None
            if plan_on is not None:
                plan = _make_plan(rng, world, pkey, lon, lat, hl.mobility, hl.devices, watcher_index, plan_on)
            people.append(
                DemoPerson(
                    key=pkey,
                    family_name=surname[0],
                    given_name=given[0],
                    family_kana=surname[1],
                    given_kana=given[1],
                    name=f"{surname[0]} {given[0]}",
                    kana=f"{surname[1]} {given[1]}",
                    sex=d.sex,
                    birth_date=d.birth,
                    phone=phone,
                    support_reasons=reasons,
                    care_level=hl.care_label,
                    mobility=hl.mobility,
                    medical_devices=hl.devices,
                    communication_needs=communication,
                    emergency_contacts=contacts,
                    notes=notes,
                    consents=consents,
                    plan=plan,
                )
            )
        out.append(DemoHousehold(key, lat, lon, address, town.name, code, people))
    return out


_REASON_ORDER = {
    k: i
    for i, k in enumerate(
        (
            "care_level_3_5",
            "physical_disability_1_2",
            "intellectual_a",
            "mental_1",
            "intractable_disease",
            "elderly_alone",
            "elderly_only_household",
            "other",
        )
    )
}


def _isolated_pockets(world: _World, share: float) -> set[int]:
    """The neighbourhoods furthest from any other (hill hamlets), until they hold `share` of the
    households: where a council really finds nobody living near enough to watch."""
    hamlets = world.hamlets
    xy = [world.metric.to_xy(h.lon, h.lat) for h in hamlets]
    tree = STRtree([Point(p) for p in xy])
    isolation = []
    for i, p in enumerate(xy):
        near = [j for j in tree.query(Point(p).buffer(3_000.0)).tolist() if j != i]
        isolation.append(min((math.dist(p, xy[j]) for j in near), default=3_000.0))
    total = sum(h.households for h in hamlets)
    out: set[int] = set()
    held = 0
    for i in sorted(range(len(hamlets)), key=lambda i: (-isolation[i], i)):
        if held >= share * total:
            break
        out.add(i)
        held += hamlets[i].households
    return out


def _spread(rng: random.Random, hamlets: Sequence[_Hamlet], covered: list[int], watchers: int) -> dict[int, int]:
    """Two watchers per neighbourhood, the rest drawn by household count (or fewer, dropped at random)."""
    per: dict[int, int] = dict.fromkeys(covered, 0)
    base = min(2, watchers // max(1, len(covered)))
    for i in covered:
        per[i] = base
    extra = watchers - base * len(covered)
    if extra > 0:
        for i in rng.choices(covered, weights=[hamlets[i].households for i in covered], k=extra):
            per[i] += 1
    elif extra < 0:  # fewer watchers than 2 per neighbourhood: drop from random ones
        pool = [i for i in covered for _ in range(per[i])]
        rng.shuffle(pool)
        for i in pool[:-extra]:
            per[i] -= 1
    return per


def _watchers(
    world: _World, watchers: int, commissioners: int, pocket_share: float = 0.1, isolated_pockets: bool = False
) -> list[DemoWatcher]:
    """Watchers live in most neighbourhoods (2+ each, more where households are many); the
    pockets (`pocket_share`: random neighbourhoods, or with `isolated_pockets` the most remote
    ones) have none. Commissioners: per branch, proportional to its households."""
    rng = random.Random(f"{world.seed}/watchers")
    hamlets = world.hamlets
    if isolated_pockets:
        pockets = _isolated_pockets(world, pocket_share)
        covered = [i for i in range(len(hamlets)) if i not in pockets]
    else:
        covered = [i for i in range(len(hamlets)) if rng.random() >= pocket_share]
    if not covered:
        covered = list(range(len(hamlets)))
    if isolated_pockets and watchers >= len(covered):  # the demo: watchers where the households are
        quota = _allocate(watchers, [hamlets[i].households for i in covered], minimum=1)
        per = dict(zip(covered, quota, strict=True))
    else:
        per = _spread(rng, hamlets, covered, watchers)
    sigma = world.watcher_sigma_m
    centres = [(hamlets[i].lon, hamlets[i].lat, sigma) for i in covered for _ in range(per[i])]
    placed = _place(rng, world, centres)
    width = max(4, len(str(watchers)))
    out: list[DemoWatcher] = []
    for n, (lon, lat, code) in enumerate(placed, 1):
        out.append(_watcher(rng, world, f"W{n:0{width}d}", "watcher", lon, lat, code, WATCHER_CAPACITY))

    # Commissioners: quota per branch by households; home near one of the branch's neighbourhoods.
    by_branch: dict[str, list[_Hamlet]] = {}
    for hm in hamlets:
        by_branch.setdefault(hm.district_code, []).append(hm)
    branches = sorted(by_branch)
    if commissioners:
        minimum = 1 if commissioners >= len(branches) else 0
        quota = _allocate(commissioners, [sum(h.households for h in by_branch[b]) for b in branches], minimum)
        centres, wanted = [], []
        for b, q in zip(branches, quota, strict=True):
            hs = by_branch[b]
            for hm in rng.choices(hs, weights=[h.households for h in hs], k=q):
                centres.append((hm.lon, hm.lat, 250.0))
                wanted.append(b)
        placed = _place(rng, world, centres, accept=lambda i, lon, lat, code: code == wanted[i])
        width = max(3, len(str(commissioners)))
        for n, ((lon, lat, _code), b) in enumerate(zip(placed, wanted, strict=True), 1):
            key = f"C{n:0{width}d}"
            out.append(_watcher(rng, world, key, "commissioner", lon, lat, b, COMMISSIONER_CAPACITY))
    return out


def _watcher(
    rng: random.Random, world: _World, key: str, role: str, lon: float, lat: float, code: str, capacity: int
) -> DemoWatcher:
    surname = rng.choice(SURNAMES)
    female = rng.random() < (0.6 if role == "watcher" else 0.55)
    born = rng.randint(1945, 1975)
    given = _name(rng, surname, "female" if female else "male", born)
    phone = _mobile(rng) if rng.random() < 0.8 else _landline(rng, world.area_code)
    return DemoWatcher(
        key=key,
        name=f"{surname[0]} {given[0]}",
        kana=f"{surname[1]} {given[1]}",
        role=role,
        lat=lat,
        lon=lon,
        capacity=capacity,
        district_code=code,
        phone=phone,
    )


# ---------------------------------------------------------------------------------------------
# Kasama
# ---------------------------------------------------------------------------------------------

# Relative weight of each town for placing support-needing households (a judgement call: the
# station and old-town centres are denser, outlying 大字 thinner). Default 1.0; 小字 entries 0.4.
KASAMA_TOWN_WEIGHTS: dict[str, float] = {
    "笠間": 5.0,
    "石井": 3.5,
    "下市毛": 3.0,
    "赤坂": 2.0,
    "稲田": 3.0,
    "箱田": 1.5,
    "来栖": 1.5,
    "鯉淵": 3.5,
    "平町": 3.0,
    "旭町": 2.5,
    "南友部": 2.5,
    "大田町": 2.0,
    "随分附": 2.0,
    "湯崎": 2.0,
    "住吉": 1.5,
    "柏井": 1.5,
    "小原": 2.0,
    "橋爪": 2.0,
    "友部駅前": 1.5,
    "北吉原": 2.0,
    "南吉原": 1.5,
    "押辺": 3.0,
    "下郷": 3.5,
    "上郷": 3.0,
    "吉岡": 1.5,
    "市野谷": 1.5,
    "泉": 1.5,
    "土師": 1.5,
    "中央一丁目": 1.5,
    "中央二丁目": 1.5,
    "中央三丁目": 1.5,
    "中央四丁目": 1.5,
    "美原一丁目": 1.2,
    "美原二丁目": 1.2,
    "美原三丁目": 1.2,
    "美原四丁目": 1.2,
    "東平一丁目": 1.2,
    "東平二丁目": 1.2,
    "東平三丁目": 1.2,
    "東平四丁目": 1.2,
    "八雲一丁目": 1.0,
    "八雲二丁目": 1.0,
}


def _kasama_world(seed: int) -> _World:
    m = facts.KASAMA_METRIC
    outline = facts.outline_shape()
    branches = {d.code: shape(d.geometry) for d in facts.load_districts() if d.level == "branch"}
    towns_src = facts.load_towns()
    # Town cells: Voronoi of the town points (metric) clipped to the outline, so a neighbourhood
    # centre sits nearer its own town point than any other and the address fits the location.
    pts = MultiPoint([m.to_xy(t.lon, t.lat) for t in towns_src])
    frame = m.project(outline).buffer(5_000).envelope
    cells = shapely.voronoi_polygons(pts, extend_to=frame, ordered=True).geoms
    towns: list[_Town] = []
    for t, cell in zip(towns_src, cells, strict=True):
        cell_ll = m.unproject(cell).intersection(outline)
        shapely.prepare(cell_ll)
        area_m2 = m.project(cell_ll).area
        chome = t.town.endswith("丁目")
        weight = 0.4 if t.koaza else KASAMA_TOWN_WEIGHTS.get(t.town, 1.0)
        spread = min(1400.0, max(120.0, 0.3 * math.sqrt(area_m2)))
        towns.append(_Town(t.town, "茨城県笠間市", t.lon, t.lat, weight, spread, chome, cell_ll))
    shelters = [s for s in facts.load_shelters() if s.kind == "designated"]
    return _World(seed, m, Locator(branches), towns, shelters, area_code="0296")


def generate_demo(seed: int = 8216, households: int = 2500, watchers: int = 1200, commissioners: int = 150) -> DemoData:
    """The Kasama demo: ~`households` support-needing households (≈1.2 people each), consent,
    evacuation plans for ~30 % of people, `watchers` 見守り協力員 and `commissioners` 民生委員.
    The most remote neighbourhoods (~4 % of households) have no watcher living nearby."""
    world = _kasama_world(seed)
    _build_hamlets(world, households)
    ws = _watchers(world, watchers, commissioners, pocket_share=DEMO_POCKET_SHARE, isolated_pockets=True)
    index = _WatcherIndex(world, ws)
    hh = _households_for(world, world.hamlets, random.Random(f"{seed}/households"), index, key_width=5)
    return DemoData(seed=seed, reference_date=REFERENCE_DATE, households=hh, watchers=ws)


# ---------------------------------------------------------------------------------------------
# Benchmark prefecture
# ---------------------------------------------------------------------------------------------

PREFECTURE_BBOX = (139.7, 35.75, 140.85, 36.95)  # lon/lat, Ibaraki-ish
PREFECTURE_CODE = "P08"


@dataclass
class PrefectureData:
    """Districts and shelters up front; households and watchers generated lazily in chunks.

    Each chunk is reproducible on its own (its own `Random(f"{seed}/households/{i}")`), and the
    iterators can be consumed more than once with identical results.
    """

    seed: int
    districts: list[District]
    shelters: list[Shelter]
    household_count: int
    watchers: list[DemoWatcher]
    _world: _World
    _chunks: list[list[_Hamlet]]
    _key_width: int

    def household_chunks(self) -> Iterator[list[DemoHousehold]]:
        index = _WatcherIndex(self._world, self.watchers)
        for i, hamlets in enumerate(self._chunks):
            rng = random.Random(f"{self.seed}/households/{i}")
            yield _households_for(self._world, hamlets, rng, index, self._key_width)

    def watcher_chunks(self, size: int = 10_000) -> Iterator[list[DemoWatcher]]:
        for i in range(0, len(self.watchers), size):
            yield self.watchers[i : i + size]


def generate_prefecture(
    seed: int,
    households: int = 100_000,
    watchers: int = 30_000,
    commissioners: int | None = None,
    chunk_size: int = 10_000,
    areas: int = 44,
) -> PrefectureData:
    """A synthetic prefecture for benchmarks: `areas` municipalities (area districts), branches of
    ~170 households each (Voronoi cells, union = areas), one synthetic designated shelter per
    branch, towns clustered around each municipality centre; same record types as the demo."""
    west, south, east, north = PREFECTURE_BBOX
    m = LocalMetric((south + north) / 2, (west + east) / 2)
    region = box(*PREFECTURE_BBOX)
    region_m = m.project(region)
    rng = random.Random(f"{seed}/prefecture")
    minx, miny, maxx, maxy = region_m.bounds

    def random_xy() -> tuple[float, float]:
        return rng.uniform(minx, maxx), rng.uniform(miny, maxy)

    area_xy = [random_xy() for _ in range(areas)]
    n_branches = max(areas, households // 170)
    # Branch seeds cluster around municipality centres (denser where people live).
    branch_xy: list[tuple[float, float]] = []
    while len(branch_xy) < n_branches:
        ax, ay = area_xy[rng.randrange(areas)]
        x, y = ax + rng.gauss(0, 9_000), ay + rng.gauss(0, 9_000)
        if minx < x < maxx and miny < y < maxy:
            branch_xy.append((x, y))
    frame = region_m.buffer(10_000).envelope
    cells = shapely.voronoi_polygons(MultiPoint(branch_xy), extend_to=frame, ordered=True).geoms
    area_tree = STRtree([Point(p) for p in area_xy])
    grid = 1e-6
    branch_geoms: list[BaseGeometry] = []
    branch_area: list[int] = []
    for (x, y), cell in zip(branch_xy, cells, strict=True):
        g = shapely.intersection(m.unproject(cell), region, grid_size=grid)
        branch_geoms.append(g)
        branch_area.append(int(area_tree.query_nearest(Point(x, y))[0]))
    # Number areas by first appearance so codes are stable and every area has branches.
    used = sorted(set(branch_area))
    area_no = {a: n for n, a in enumerate(used, 1)}
    districts: list[District] = []
    branch_codes: dict[str, BaseGeometry] = {}
    shelters: list[Shelter] = []
    per_area_count: dict[int, int] = {}
    branch_meta: list[tuple[str, str, int]] = []
    for bi, (g, a) in enumerate(zip(branch_geoms, branch_area, strict=True)):
        an = area_no[a]
        per_area_count[an] = per_area_count.get(an, 0) + 1
        bn = per_area_count[an]
        code = f"{PREFECTURE_CODE}-A{an:02d}-B{bn:03d}"
        branch_codes[code] = g
        branch_meta.append((code, f"{PREFECTURE_CODE}-A{an:02d}", bn))
        sx, sy = branch_xy[bi]
        slon, slat = m.to_lonlat(sx, sy)
        shelters.append(
            Shelter(
                source_id=f"S{PREFECTURE_CODE}{bi + 1:05d}",
                kind="designated",
                name=f"模擬{an}市第{bn}避難所",
                address=f"茨城県模擬{an}市",
                lat=_rnd(slat),
                lon=_rnd(slon),
                hazards=[],
                capacity=None,
            )
        )
    for a in used:
        an = area_no[a]
        parts = [branch_geoms[i] for i, x in enumerate(branch_area) if x == a]
        geom = shapely.union_all(parts, grid_size=grid)
        districts.append(
            District(
                code=f"{PREFECTURE_CODE}-A{an:02d}",
                name=f"模擬{an}市",
                kana=f"モギ{number_kana(an)}シ",
                level="area",
                parent_code=None,
                geometry=_multipolygon_geojson(geom),
            )
        )
    for code, parent, bn in branch_meta:
        an = int(parent.rsplit("A", 1)[1])
        districts.append(
            District(
                code=code,
                name=f"模擬{an}市第{bn}支部",
                kana=f"モギ{number_kana(an)}シダイ{number_kana(bn)}シブ",
                level="branch",
                parent_code=parent,
                geometry=_multipolygon_geojson(branch_codes[code]),
            )
        )

    # Towns: clustered around municipality centres, weights skewed (a few big ones).
    from seed.kasama.names import PLACE_FIRST, PLACE_SECOND

    n_towns = max(areas, households // 35)
    locator = Locator(branch_codes)
    towns: list[_Town] = []
    names_used: set[tuple[str, str]] = set()
    while len(towns) < n_towns:
        ax, ay = area_xy[rng.randrange(areas)]
        x, y = ax + rng.gauss(0, 8_000), ay + rng.gauss(0, 8_000)
        lon, lat = (_rnd(v) for v in m.to_lonlat(x, y))
        located = locator.locate([lon], [lat])[0]
        if located is None:
            continue
        municipality = "模擬" + located.split("-")[1][1:].lstrip("0") + "市"  # from the containing area
        name = rng.choice(PLACE_FIRST)[0] + rng.choice(PLACE_SECOND)[0]
        if (municipality, name) in names_used:
            name += "新田"
            if (municipality, name) in names_used:
                continue
        names_used.add((municipality, name))
        chome = rng.random() < 0.15
        weight = rng.lognormvariate(0, 0.8)
        towns.append(_Town(name, f"茨城県{municipality}", lon, lat, weight, 700.0, chome))
    world = _World(seed, m, locator, towns, shelters, area_code="029")
    _build_hamlets(world, households)
    if commissioners is None:
        commissioners = max(1, households // 17)
    ws = _watchers(world, watchers, commissioners)
    chunks: list[list[_Hamlet]] = [[]]
    count = 0
    for hm in world.hamlets:
        if count >= chunk_size:
            chunks.append([])
            count = 0
        chunks[-1].append(hm)
        count += hm.households
    return PrefectureData(seed, districts, shelters, households, ws, world, chunks, len(str(households)) + 1)


def _multipolygon_geojson(geom: BaseGeometry) -> dict[str, Any]:
    polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]
    mp: BaseGeometry = shapely.MultiPolygon(polys)
    if not mp.is_valid:
        mp = shapely.make_valid(mp)
    gj = mapping(mp)
    coords = [[[list(c) for c in ring] for ring in poly] for poly in gj["coordinates"]]
    return {"type": "MultiPolygon", "coordinates": coords}
