"""The consent columns of a roster: given or not (有/○/1 …) and since when (同意日, often 和暦).

A roster may carry whether each person consented to the roster being shared (名簿提供同意). The
clerk says for which recipient classes on upload; the file only says yes or no, and when.
"""

from __future__ import annotations

import re
import unicodedata

# Canonical field → header spellings seen in municipal exports (matched like the roster's own columns).
CONSENT_ALIASES: dict[str, tuple[str, ...]] = {
    "consent": (
        "同意", "同意有無", "同意の有無", "同意区分", "同意状況", "名簿提供同意", "名簿情報提供同意",
        "情報提供同意", "外部提供同意", "提供同意",
    ),
    "consent_date": ("同意日", "同意年月日", "同意取得日"),
}  # fmt: skip
_YES = {"1", "○", "◯", "〇", "●", "◎", "有", "あり", "有り", "同意", "同意あり", "同意有", "済", "同意済",
        "はい", "YES", "Y", "TRUE"}  # fmt: skip
_NO = {"", "0", "×", "✕", "-", "無", "なし", "無し", "不同意", "同意なし", "同意無", "未", "未同意",
       "いいえ", "NO", "N", "FALSE", "拒否"}  # fmt: skip


def consent_given(raw: str) -> bool | None:
    """True for a yes, False for a no or an empty cell, None when the cell cannot be read either way."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None
