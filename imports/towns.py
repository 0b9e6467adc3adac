"""Finding the town (大字・町丁目) an address lies in, to place a person when the roster has no coordinates.

The result is only a representative point of the town, so callers flag it as approximate for staff
to correct. Matching is longest-prefix on a normalised address, after the prefecture and city are
stripped, because Japanese addresses run from large to small: 茨城県 笠間市 中央三丁目 3-6.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CHOME = re.compile(r"([〇一二三四五六七八九十]+|\d+)丁目")
_KANJI = r"[\u3400-\u9fff\uf900-\ufaff々〆]"
# 霞ヶ関 / 霞ケ関 / 霞が関 and 一ノ宮 / 一の宮 are the same places; only between kanji, so real kana names stay.
_KE = re.compile(rf"(?<={_KANJI})[ヶケがガヵカ个箇](?={_KANJI})")
_NO = re.compile(rf"(?<={_KANJI})[のノ之](?={_KANJI})")
_DASHES = re.compile(r"[‐‑‒–—―−ーｰ－﹣]")
_POSTCODE = re.compile(r"^〒?\s*\d{3}-?\d{4}\s*")
_CHOME_DIGITS = re.compile(r"^(\d+)(?:丁目|-|番|$)")

DEFAULT_PREFIXES: tuple[str, ...] = ("茨城県", "笠間市")

# Real spellings that differ from the gazetteer. The generic rule in Gazetteer (a town named after
# two neighbouring towns plus a suffix, with the two names swapped) already finds this one; the
# table stays for the case where a gazetteer lacks one of the component towns.
# GSI's shelter list writes 「茨城県笠間市仁古田長兎路入会地1-171」 (ゆかいふれあいセンター) while the
# 位置参照情報 / Geolonia town list names the common land (入会地) of 長兎路 and 仁古田 「長兎路仁古田入会地」.
KNOWN_ALIASES: dict[str, str] = {"仁古田長兎路入会地": "長兎路仁古田入会地"}


@dataclass(frozen=True, slots=True)
class Town:
    """A town (大字 or 町丁目) with a representative point (WGS84/JGD2011 degrees)."""

    name: str
    lat: float
    lon: float


def towns_from_geolonia(items: Iterable[Mapping[str, Any]]) -> list[Town]:
    """Convert Geolonia japanese-addresses v1 city JSON ({town, koaza, lat, lng} with string numbers).

    小字 entries (koaza) become "town+koaza" (石井南町) so the longer, more precise name wins.
    """
    return [
        Town(f"{it['town']}{it.get('koaza') or ''}", float(it["lat"]), float(it["lng"]))
        for it in items
        if it.get("lat") not in (None, "") and it.get("lng") not in (None, "")
    ]


def _kanji_number(s: str) -> int:
    if s.isdigit():
        return int(s)
    # 一…九十九 is plenty for 丁目
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    n = 0
    for ch in s:
        n = n * 10 + _KANJI_DIGITS[ch]
    return n


def normalise_place(text: str) -> str:
    """The matching form of a town name or address: NFKC, no spaces, 一丁目→1丁目, ヶ/が→ケ, の→ノ, dashes→'-'."""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"\s+", "", s)
    s = _DASHES.sub("-", s)
    s = _CHOME.sub(lambda m: f"{_kanji_number(m.group(1))}丁目", s)
    s = _KE.sub("ケ", s)
    s = _NO.sub("ノ", s)
    return s


def address_key(address: str) -> str:
    """A comparison form of a whole address: 中央三丁目3番6号 == 中央3-3-6 (for duplicate checks)."""
    s = normalise_place(address)
    s = re.sub(r"(\d+)(?:丁目|番地|番|の)", r"\1-", s)
    s = re.sub(r"(\d+)号", r"\1", s)
    return re.sub(r"-+", "-", s).strip("-")


class Gazetteer:
    """Town lookup for one municipality.

    `prefixes` are stripped from the front of addresses in order (茨城県, then 笠間市), each only
    if present, so 「茨城県笠間市笠間1668」, 「笠間市笠間1668」 and 「笠間1668」 all reach 笠間.
    """

    def __init__(
        self,
        towns: Iterable[Town],
        *,
        prefixes: Sequence[str] = DEFAULT_PREFIXES,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.towns: dict[str, Town] = {}
        for t in towns:
            self.towns.setdefault(normalise_place(t.name).removeprefix("大字"), t)
        self.prefixes = [normalise_place(p) for p in prefixes]
        self._keys: dict[str, Town] = dict(self.towns)
        self._add_swapped_compounds()
        for alias, target in {**KNOWN_ALIASES, **(aliases or {})}.items():
            town = self.towns.get(normalise_place(target))
            if town is not None:
                self._keys.setdefault(normalise_place(alias), town)
        # 町丁目 written without 丁目 (中央3-3-6): base name → {丁目 number → town}
        self._chome: dict[str, dict[int, Town]] = {}
        for key, town in self.towns.items():
            if m := re.fullmatch(r"(.+?)(\d+)丁目", key):
                self._chome.setdefault(m.group(1), {})[int(m.group(2))] = town
        self._max_len = max((len(k) for k in self._keys), default=0)

    def _add_swapped_compounds(self) -> None:
        """Register B+A+rest for every town named A+B+rest where A and B are themselves towns.

        Common land shared by two villages (入会地) is named after both, and sources disagree on
        the order: 長兎路仁古田入会地 vs 仁古田長兎路入会地 in Kasama.
        """
        for full, town in list(self.towns.items()):
            for i in range(2, len(full) - 1):
                a, rest_a = full[:i], full[i:]
                if a not in self.towns:
                    continue
                for j in range(2, len(rest_a) + 1):
                    b = rest_a[:j]
                    swapped = b + a + rest_a[j:]
                    if b != a and b in self.towns and swapped not in self.towns:
                        self._keys.setdefault(swapped, town)

    def strip_prefixes(self, address: str) -> str:
        """The address without postcode, prefecture, city and 大字, in matching form."""
        s = _POSTCODE.sub("", normalise_place(address))
        for p in self.prefixes:
            if s.startswith(p):
                s = s[len(p) :]
        return s.removeprefix("大字")

    def lookup(self, address: str) -> Town | None:
        """The town whose name is the longest prefix of the address, or None."""
        rest = self.strip_prefixes(address)
        if not rest:
            return None
        # Prefix slices, longest first: O(address length) per row, whatever the gazetteer's size.
        for i in range(min(len(rest), self._max_len), 0, -1):
            base = rest[:i]
            by_number = self._chome.get(base)
            if by_number is not None and base not in self.towns:
                m = _CHOME_DIGITS.match(rest[i:])
                if m and int(m.group(1)) in by_number:
                    return by_number[int(m.group(1))]
        for i in range(min(len(rest), self._max_len), 0, -1):
            if (town := self._keys.get(rest[:i])) is not None:
                return town
        return None
