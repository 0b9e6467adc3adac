"""Controlled vocabularies of the registry: stable codes in the database and API, Japanese labels for people.

Codes never change once shipped (exports, imports and the PWA rely on them); labels may.
"""

from __future__ import annotations

# 避難支援等を必要とする事由
SUPPORT_REASONS: dict[str, str] = {
    "care_level_3_5": "要介護3〜5",
    "physical_disability_1_2": "身体障害1〜2級",
    "intellectual_a": "療育手帳A",
    "mental_1": "精神1級",
    "intractable_disease": "難病",
    "elderly_alone": "独居高齢",
    "elderly_only_household": "高齢者のみ世帯",
    "other": "その他",
}

SEXES: dict[str, str] = {"female": "女", "male": "男", "other": "その他", "unknown": "不明"}

MEDICAL_DEVICES: dict[str, str] = {
    "home_oxygen": "在宅酸素",
    "ventilator": "人工呼吸器",
    "dialysis": "人工透析",
    "suction": "たん吸引",
    "other": "その他",
}

MOBILITY: dict[str, str] = {
    "independent": "自力歩行",
    "cane": "杖・歩行器",
    "wheelchair": "車いす",
    "bedridden": "寝たきり",
}

# Recipient classes for consent (災害対策基本法 49条の11).
RECIPIENT_CLASSES: dict[str, str] = {
    "commissioner": "民生委員",
    "council": "社協",
    "voluntary_disaster_org": "自主防災組織",
    "fire": "消防",
    "police": "警察",
    "watcher": "見守り協力員",
}

CONSENT_DATASETS: dict[str, str] = {"roster": "名簿情報", "plan": "個別避難計画"}

SHELTER_KINDS: dict[str, str] = {
    "designated": "指定避難所",
    "welfare": "福祉避難所",
    "emergency_site": "指定緊急避難場所",
}

# Hazard suitability flags, in the order of GSI's 指定緊急避難場所 layout.
SHELTER_HAZARDS: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ、土石流及び地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}

HAZARD_ZONE_KINDS: dict[str, str] = {"flood": "浸水想定区域", "landslide": "土砂災害警戒区域", "other": "その他"}

DISTRICT_LEVELS: dict[str, str] = {"area": "地域", "branch": "支部", "unit": "行政区"}

OPERATION_KINDS: dict[str, str] = {"watch_round": "定期見守り", "safety_check": "安否確認"}

# Visit outcomes per operation kind (PRODUCT.md §3 "Visits and safety checks").
OUTCOMES: dict[str, dict[str, str]] = {
    "watch_round": {"ok": "異常なし", "away": "不在", "contact": "要連絡", "emergency": "緊急"},
    "safety_check": {"safe": "無事", "injured": "負傷", "rescue": "要救助", "evacuated": "避難済", "unknown": "不明"},
}
# Outcomes that raise an escalation, and how urgent it is.
ESCALATE: dict[str, str] = {"emergency": "urgent", "rescue": "urgent", "injured": "urgent", "contact": "contact"}
