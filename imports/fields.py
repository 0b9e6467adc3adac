"""Normalisers for single cells (kana, sex, phone, coordinates), shared by the CSV importers.

Each returns the normalised value or raises FieldError with a message a clerk can act on.
"""

from __future__ import annotations

import math
import re
import unicodedata

from imports.report import FieldError

_SPACES = re.compile(r"[\s\u3000]+")
_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc-\u30fe・ ]+$")
_DASHES = re.compile(r"[‐‑‒–—―−ーｰ－﹣]")

# Japan's extent with a margin: 沖ノ鳥島 20.4°N, 択捉島 45.6°N, 与那国島 122.9°E, 南鳥島 153.99°E.
LAT_RANGE = (20.0, 46.0)
LON_RANGE = (122.0, 154.0)


def normalise_name(raw: str) -> str:
    """Trim and collapse runs of spaces to one full-width space (ASCII space for romanised names).

    No NFKC: it would rewrite compatibility kanji that people use in their names.
    """
    s = raw.strip(" \t\r\n\u3000")
    return _SPACES.sub(" " if s.isascii() else "\u3000", s)


def normalise_kana(raw: str) -> str:
    """Full-width katakana with single full-width spaces; hiragana and half-width kana converted."""
    s = unicodedata.normalize("NFKC", raw)
    s = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" or c in "ゝゞ" else c for c in s)
    s = _SPACES.sub(" ", s).strip()
    if not _KATAKANA.match(s):
        bad = "".join(sorted({c for c in s if not _KATAKANA.match(c)}))
        raise FieldError(
            f"フリガナ「{raw}」にカタカナ以外の文字（{bad}）が含まれています。カタカナで入力してください。",
            f"Kana '{raw}' contains non-katakana characters ({bad}); write it in katakana.",
        )
    return s.replace(" ", "\u3000")


_ELEVEN_DIGIT = {"050", "060", "070", "080", "090"}  # IP phone, UPT, mobiles/PHS

_SEX = {
    "男": "male", "男性": "male", "M": "male", "MALE": "male", "1": "male",
    "女": "female", "女性": "female", "F": "female", "FEMALE": "female", "2": "female",
    "": "unknown", "不明": "unknown",
    "その他": "other",
}  # fmt: skip


def normalise_sex(raw: str) -> str:
    """男/男性/M/1 → male, 女/女性/F/2 → female (1/2 as in 住民基本台帳 exports), empty → unknown."""
    key = unicodedata.normalize("NFKC", raw).strip().upper()
    if key not in _SEX:
        raise FieldError(
            f"性別「{raw}」を読めません。男・女（または 1・2、M・F）で入力してください。",
            f"Sex '{raw}' is not recognised; use 男/女, 1/2 or M/F.",
        )
    return _SEX[key]


def normalise_phone(raw: str) -> str | None:
    """A Japanese landline, mobile, IP or toll-free number, hyphenated as written; None if empty.

    10 digits starting 0 (not 00): landlines, 0120, 0570; 11 digits: 050/060/070/080/090 and 0800.
    """
    s = _DASHES.sub("-", unicodedata.normalize("NFKC", raw)).strip()
    if s.strip("-") == "":
        return None
    if s.startswith("+81"):
        s = "0" + s[3:].lstrip(" -(").removeprefix("0").lstrip(" -)")
    s = re.sub(r"[()\s]+", "-", s)
    s = re.sub(r"-+", "-", s).strip("-")
    digits = s.replace("-", "")
    eleven_digit_prefix = digits[:3] in _ELEVEN_DIGIT or digits[:4] == "0800"
    ok = (
        digits.isdigit()
        and digits.startswith("0")
        and (
            (len(digits) == 10 and digits[1] != "0" and not eleven_digit_prefix)
            or (len(digits) == 11 and eleven_digit_prefix)
        )
    )
    if ok:
        return s
    hint_ja = hint_en = ""
    if digits.isdigit() and len(digits) in (9, 10) and not digits.startswith("0"):
        hint_ja = "先頭の0が欠けている可能性があります（Excelで数値として保存すると0が消えます）。"
        hint_en = " The leading 0 may have been dropped (Excel stores it as a number)."
    raise FieldError(
        f"電話番号「{raw}」は日本の電話番号の形ではありません。{hint_ja}"
        "1つのセルに1つの番号を 0296-72-1111 や 090-1234-5678 の形で入力してください。",
        f"'{raw}' is not a Japanese phone number.{hint_en} Write one number per cell, "
        "like 0296-72-1111 or 090-1234-5678.",
    )


def parse_coordinate(raw: str, what: str) -> float:
    """A decimal degree (full-width digits accepted); FieldError if not a finite number."""
    s = unicodedata.normalize("NFKC", raw).strip().replace("°", "")
    try:
        value = float(s)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise FieldError(
            f"{what}「{raw}」を数値として読めません。36.3845 のような10進数（度）で入力してください。",
            f"{'Latitude' if what == '緯度' else 'Longitude'} '{raw}' is not a decimal number of degrees.",
        )
    return value


def check_in_japan(lat: float, lon: float) -> None:
    """FieldError unless (lat, lon) lies in Japan's extent; says so when they look swapped."""

    def inside(a: float, b: float) -> bool:
        return LAT_RANGE[0] <= a <= LAT_RANGE[1] and LON_RANGE[0] <= b <= LON_RANGE[1]

    if inside(lat, lon):
        return
    if inside(lon, lat):
        raise FieldError(
            f"緯度 {lat}・経度 {lon} は入れ替わっているようです。緯度は36前後、経度は140前後です。",
            f"Latitude {lat} and longitude {lon} look swapped (latitude ≈ 36, longitude ≈ 140 here).",
        )
    raise FieldError(
        f"緯度 {lat}・経度 {lon} は日本の範囲（緯度20〜46、経度122〜154）の外です。",
        f"Latitude {lat}, longitude {lon} lies outside Japan (lat 20–46, lon 122–154).",
    )
