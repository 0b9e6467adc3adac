"""Dates as Japanese municipal files write them: 西暦 and 和暦 (元号) in their many spellings.

Registers of older residents are full of 和暦 (昭和15年3月2日, S15.3.2). An era year only means
something within the era's real span, so 昭和64年1月8日 (Heisei had begun) and 平成元年1月7日
(still Shōwa) are rejected instead of being silently shifted to a neighbouring era.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from imports.report import FieldError


@dataclass(frozen=True, slots=True)
class Era:
    name: str
    letter: str
    romaji: str
    first_day: date  # the Gregorian day the era began
    last_day: date | None  # None: the current era

    @property
    def offset(self) -> int:
        return self.first_day.year - 1


# Meiji's first five years used the lunisolar calendar, so only Gregorian dates are converted
# (the solar calendar began on 明治6年1月1日 = 1873-01-01).
ERAS: tuple[Era, ...] = (
    Era("明治", "M", "Meiji", date(1868, 1, 25), date(1912, 7, 29)),
    Era("大正", "T", "Taishō", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", "Shōwa", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", "Heisei", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", "Reiwa", date(2019, 5, 1), None),
)
_MEIJI_SOLAR_START = date(1873, 1, 1)

_BY_TOKEN: dict[str, Era] = {}
for _e in ERAS:
    _BY_TOKEN[_e.name] = _e
    _BY_TOKEN[_e.name[0]] = _e  # 昭15.3.2
    _BY_TOKEN[_e.letter] = _e

_SEP = r"\s*[-/.年]\s*"
_WAREKI = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和|[明大昭平令MTSHR])\s*(?P<y>\d{1,2}|元)"
    + _SEP
    + r"(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?$"
)
# Excel often exports date cells as "1940/03/02 0:00:00"; the time part is dropped.
_SEIREKI = re.compile(
    r"^(?P<y>\d{4})" + _SEP + r"(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")


class DateError(FieldError):
    """Why a date could not be read; carries a Japanese and an English explanation."""


def _normalise(text: str) -> str:
    # NFKC turns ㍼ into 昭和, full-width digits into ASCII and ／ into /; also accept lower case s15.3.2.
    return unicodedata.normalize("NFKC", text).strip().upper()


def parse_japanese_date(text: str) -> date:
    """Parse 1940-03-02, 1940/3/2, 1940年3月2日, 19400302, 昭和15年3月2日, S15.3.2, H元.1.8 …

    Raises DateError with a message a clerk can act on.
    """
    s = _normalise(text)
    if m := _WAREKI.match(s):
        era = _BY_TOKEN[m["era"]]
        year_in_era = 1 if m["y"] == "元" else int(m["y"])
        if year_in_era == 0:
            raise DateError(f"「{text}」: 元号の年に0年はありません。", f"'{text}': an era year cannot be 0.")
        result = _make(era.offset + year_in_era, int(m["m"]), int(m["d"]), text)
        if result < era.first_day or (era.last_day is not None and result > era.last_day):
            span = f"{_fmt(era.first_day)}〜{_fmt(era.last_day) if era.last_day else ''}"
            span_en = f"{era.first_day.isoformat()} to {era.last_day.isoformat() if era.last_day else 'now'}"
            raise DateError(
                f"「{text}」は{era.name}の期間（{span}）の外の日付です。元号か年を確認してください。",
                f"'{text}' lies outside the {era.romaji} era ({span_en}); check the era or the year.",
            )
        if era.letter == "M" and result < _MEIJI_SOLAR_START:
            raise DateError(
                f"「{text}」は太陽暦採用（明治6年）より前の日付のため変換できません。",
                f"'{text}' predates Japan's solar calendar (1873) and cannot be converted.",
            )
        return result
    if m := (_SEIREKI.match(s) or _COMPACT.match(s)):
        return _make(int(m["y"]), int(m["m"]), int(m["d"]), text)
    raise DateError(
        f"「{text}」を日付として読めません。1940/3/2 や 昭和15年3月2日 の形で入力してください。",
        f"'{text}' is not a date; write it like 1940/3/2 or 昭和15年3月2日 (S15.3.2).",
    )


def _make(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise DateError(
            f"「{text}」は存在しない日付です（月や日を確認してください）。",
            f"'{text}' is not a real calendar day; check the month and day.",
        ) from None


def _fmt(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
