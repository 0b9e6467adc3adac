"""Mapping the free text of 要支援事由 and 医療機器 cells to the registry's controlled codes.

Each municipality words the criteria of its 避難行動要支援者 plan differently (要介護３, 身体1級,
療育Ⓐ …). We map what we recognise to `vocab` codes, keep the original text, and
let the clerk see what was not recognised instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata

from vocab import MEDICAL_DEVICES, SUPPORT_REASONS

# Separators between several reasons in one cell: 、 , / ・ ; newlines and spaces (incl. full-width).
_SPLIT = re.compile(r"[、,，/／・;；\s\u3000]+")
_KANJI_NUM = str.maketrans({"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"})
_NONE_WORDS = {"", "-", "なし", "無", "無し", "ナシ", "特になし", "該当なし"}

_DISABILITY = r"(?:障害|障がい|障碍)"
_SUPPORT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^要介護(?:度)?[345]$"), "care_level_3_5"),
    (
        re.compile(rf"^(?:身体{_DISABILITY}?者?(?:手帳)?|肢体不自由|(?:視覚|聴覚|内部){_DISABILITY})[12]級$"),
        "physical_disability_1_2",
    ),
    # 療育手帳: Ibaraki writes Ⓐ (most severe) and A; NFKC turns Ⓐ into A, ○A/マルA are typed forms of Ⓐ.
    (re.compile(r"^(?:療育(?:手帳)?|知的" + _DISABILITY + r"?者?)(?:○|〇|◯|マル|\()?A[12]?\)?$"), "intellectual_a"),
    (re.compile(rf"^精神{_DISABILITY}?者?(?:保健福祉)?(?:手帳)?1級$"), "mental_1"),
    (re.compile(r"^(?:指定)?(?:難病|特定疾患)(?:患者)?$"), "intractable_disease"),
    (re.compile(r"^(?:独居|ひとり暮らし|一人暮らし|独り暮らし)(?:高齢者?)?$"), "elderly_alone"),
    (re.compile(r"^高齢(?:者)?(?:のみ)?(?:の)?世帯$|^高齢者のみ$"), "elderly_only_household"),
    (re.compile(r"^その他$"), "other"),
]

_DEVICE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:在宅)?酸素(?:療法|吸入|濃縮器)?$|^HOT$"), "home_oxygen"),
    (re.compile(r"^(?:人工)?呼吸器$|^在宅人工呼吸器$"), "ventilator"),
    (re.compile(r"^(?:人工|腹膜)?透析$"), "dialysis"),
    (re.compile(r"^(?:たん|痰|喀痰)?吸引(?:器)?$"), "suction"),
    (re.compile(r"^その他$"), "other"),
]


def _token_key(token: str) -> str:
    return unicodedata.normalize("NFKC", token).upper().translate(_KANJI_NUM).replace("〜", "~")


def _labels(vocab: dict[str, str]) -> dict[str, str]:
    """Our own codes and labels map to themselves, so a Tonari export re-imports unchanged."""
    out = {_token_key(label): code for code, label in vocab.items()}
    out.update({code.upper(): code for code in vocab})
    return out


_SUPPORT_LABELS = _labels(SUPPORT_REASONS)
_DEVICE_LABELS = _labels(MEDICAL_DEVICES)


def split_tokens(cell: str) -> list[str]:
    return [t for t in _SPLIT.split(cell.strip()) if t]


def _map(cell: str, labels: dict[str, str], patterns: list[tuple[re.Pattern[str], str]]) -> tuple[list[str], list[str]]:
    if cell.strip() in _NONE_WORDS:
        return [], []
    codes: list[str] = []
    unknown: list[str] = []
    # Try the whole cell first: labels such as 「身体障害1〜2級」 must not be split.
    tokens = [cell.strip()] if _token_key(cell.strip()) in labels else split_tokens(cell)
    for token in tokens:
        key = _token_key(token)
        code = labels.get(key) or next((c for p, c in patterns if p.match(key)), None)
        if code is None:
            unknown.append(token)
            code = "other"
        if code not in codes:
            codes.append(code)
    return codes, unknown


def map_support_reasons(cell: str) -> tuple[list[str], list[str]]:
    """(codes in order without repeats, tokens not recognised). Unrecognised tokens count as "other"."""
    return _map(cell, _SUPPORT_LABELS, _SUPPORT_PATTERNS)


def map_medical_devices(cell: str) -> tuple[list[str], list[str]]:
    """(MEDICAL_DEVICES codes, tokens not recognised). なし/無/- mean no device."""
    return _map(cell, _DEVICE_LABELS, _DEVICE_PATTERNS)
