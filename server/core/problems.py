"""Errors as RFC 9457 problem documents with a stable `code` and a message in Japanese and English.

Raise `Problem(code)` anywhere; the exception handlers in `server.core.errors` render it. The
catalogue below is the one place codes and their words live, so clients can rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code: (HTTP status, Japanese message, English message)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "validation_failed": (
        400,
        "入力内容に誤りがあります。各項目を確認してください。",
        "Some fields are not valid. Check each field.",
    ),
    "bad_request": (400, "リクエストの形式が正しくありません。", "The request is malformed."),
    "invalid_json": (400, "送信されたデータをJSONとして読み取れません。", "The request body is not valid JSON."),
    "json_too_deep": (
        400,
        "送信されたJSONの入れ子が深すぎます（32段まで）。",
        "The JSON body is nested too deeply (at most 32 levels).",
    ),
    "not_authenticated": (401, "ログインしてください。", "Please sign in."),
    "session_expired": (
        401,
        "ログインの有効期限が切れました。もう一度ログインしてください。",
        "Your session has ended. Please sign in again.",
    ),
    "invalid_credentials": (
        401,
        "ログインIDまたはパスワードが正しくありません。",
        "The login ID or password is incorrect.",
    ),
    "temporary_password_expired": (
        401,
        "仮パスワードの有効期限が切れています。管理者に新しい仮パスワードを発行してもらってください。",
        "This temporary password has expired; ask an administrator to issue a new one.",
    ),
    "forbidden": (403, "この操作を行う権限がありません。", "You do not have permission to do this."),
    "csrf_failed": (
        403,
        "セキュリティ確認に失敗しました。画面を再読み込みしてからもう一度お試しください。",
        "The security check failed. Reload the page and try again.",
    ),
    "not_found": (404, "指定されたものが見つかりません。", "Not found."),
    "method_not_allowed": (405, "この操作はこのURLでは使えません。", "This method is not allowed here."),
    "conflict": (
        409,
        "他の変更と競合しました。最新の状態を確認してください。",
        "This conflicts with another change. Check the latest state.",
    ),
    "district_in_use": (
        409,
        "この地区には結び付いているデータがあるため削除できません。",
        "This district cannot be deleted while other records depend on it.",
    ),
    "district_cycle": (
        409,
        "地区を自分自身の下位の地区の下に置くことはできません。親地区を選び直してください。",
        "A district cannot be placed under itself or one of its own sub-districts. Choose another parent.",
    ),
    "household_has_records": (
        409,
        "この世帯には活動の記録があるため削除できません。記録は残す必要があります。",
        "This household has operation records, which must be kept, so it cannot be deleted.",
    ),
    "watch_link_beyond_radius": (
        409,
        "この見守り協力員は世帯から徒歩圏の外に住んでいます。確認のうえで割り当ててください。",
        "This watcher lives beyond the walking radius of the household. Confirm to link anyway.",
    ),
    "visit_conflict": (
        409,
        "同じIDで内容の異なる記録がすでにあります。端末の未送信データを確認してください。",
        "A different visit with this id already exists. Check the device's outbox.",
    ),
    "visit_problem": (400, "この記録は受け付けられません。", "This visit cannot be accepted."),
    "duplicate": (409, "同じ内容のものがすでに登録されています。", "Something with the same value already exists."),
    "in_use": (
        409,
        "ほかの記録から参照されているため削除・変更できません。",
        "Other records still refer to this, so it cannot be removed or changed.",
    ),
    "payload_too_large": (413, "送信データが大きすぎます。", "The request body is too large."),
    "invalid_reference": (
        422,
        "指定された項目の中に、存在しないもの・使えないものがあります。各項目を確認してください。",
        "Some of the given ids do not exist here or cannot be used. Check each field.",
    ),
    "scenario_invalid": (
        422,
        "訓練シナリオに誤りがあります。行番号と項目を確認して修正してください。",
        "The drill scenario is not valid. Fix each error at the line and field given.",
    ),
    "drill_not_running": (409, "この訓練は実施中ではありません。", "This drill is not running."),
    "drill_report_not_archived": (
        409,
        "振り返りを保存（アーカイブ）してから訓練を削除してください。",
        "Archive the drill's report before deleting the drill.",
    ),
    "import_failed": (
        422,
        "取り込みできない行があります。エラー一覧を確認して修正してください。",
        "Some rows cannot be imported. Check the list of errors and fix them.",
    ),
    "unsupported_media_type": (415, "この形式のデータは受け付けられません。", "This content type is not supported."),
    "too_many_attempts": (
        429,
        "ログインの失敗が続いたため、ここからのログインを一時的に止めています。しばらく待ってからお試しください。いつもログインしている端末からは、そのままログインできます。",
        "Too many failed sign-ins from here, so signing in from here is paused. Wait a while and try again; the device you usually sign in on can still sign in.",
    ),
    "password_change_required": (
        403,
        "パスワードの変更が必要です。新しいパスワードを設定してから続けてください。",
        "You must choose a new password before you go on.",
    ),
    "weak_password": (
        400,
        "パスワードは10文字以上で、推測されにくいものにしてください。ログインIDや名前、よくある言葉や数字・キーボードの並びは使えません。",
        "Use a password of at least 10 characters that is hard to guess: not your login ID or name, nor common words or runs of digits or keys.",
    ),
    "current_password_incorrect": (400, "現在のパスワードが正しくありません。", "The current password is not correct."),
    "password_unchanged": (
        400,
        "新しいパスワードが現在のものと同じです。別のパスワードにしてください。",
        "The new password is the same as the current one. Choose a different one.",
    ),
    "not_for_yourself": (
        409,
        "自分自身のアカウントにはこの操作はできません。パスワードは「パスワードの変更」で変えてください。",
        'You cannot do this to your own account. Change your own password with "Change password".',
    ),
    "last_active_admin": (
        409,
        "有効な管理者が他にいないため、このアカウントは無効にできません。先に別の管理者を有効にしてください。",
        "This is the last active admin, so it cannot be disabled. Enable another admin first.",
    ),
    # The 災害VC day (server/vc/, 0025-vc-roles).
    "vc_centre_closed": (409, "この災害ボランティアセンターは閉所しています。", "This volunteer centre is closed."),
    "vc_bad_date": (
        400,
        "日付がありえない値です。センターの開設日から今日までの日付にしてください。",
        "This date cannot be right: give a day from the centre's opening to today.",
    ),
    "vc_outside_area": (
        422,
        "場所が社協の区域外です。住所と地図上の位置を確認してください。",
        "The place lies outside the council's area. Check the address and the map position.",
    ),
    "vc_town_unknown": (
        422,
        "地図の位置がなく、町名も町名一覧にありません。地図で位置を選ぶか、町名を確認してください。",
        "There is no map position and the town is not in the town list. Pick the place on the map or check the town.",
    ),
    "vc_household_not_visible": (
        422,
        "この世帯には結び付けられません（あなたの権限では見えない世帯です）。",
        "This need cannot be linked to that household: your role may not see it.",
    ),
    "vc_need_state": (
        409,
        "このニーズは今の状態ではこの操作ができません。ボードで状態を確認してください。",
        "This need's state does not allow this. Check the board.",
    ),
    "vc_minor_needs_consent": (
        422,
        "18歳未満の方は保護者の同意が必要です。同意した保護者の名前を入力してください。",
        "Volunteers under 18 need a guardian's consent: give the name of the guardian who consented.",
    ),
    "vc_minor_needs_guardian_in_team": (
        422,
        "この年齢の方は、保護者が同じ班にいる場合だけ活動できます。保護者を同じ班に入れてください。",
        "A volunteer this young may only work in the same team as their guardian. Put the guardian in the team.",
    ),
    "vc_not_checked_in": (
        422,
        "本日受付していない人が含まれています。先に当日受付をしてください。",
        "Some members have not checked in today. Check them in first.",
    ),
    "vc_team_too_big": (
        422,
        "班の人数が本日受付した人数より多くなっています。人数を確認してください。",
        "The team is bigger than the people checked in. Check the numbers.",
    ),
    "vc_already_in_team": (
        409,
        "本日すでに別の班に入っている人が含まれています。",
        "Someone here is already in another team today.",
    ),
    "vc_not_insured": (
        422,
        "ボランティア活動保険に未加入の人がいるため送り出せません。加入手続きをしてから送り出してください。",
        "Someone in the team has no volunteer activity insurance, so the team cannot be sent. Enrol them first.",
    ),
    "vc_team_busy": (
        409,
        "この班はすでに活動中です。活動報告の後に次の送り出しができます。",
        "This team is already out. Send it again after its report.",
    ),
    "vc_out_of_stock": (
        409,
        "資機材の在庫が足りません。在庫を確認してください。",
        "Not enough of this equipment is in stock. Check the stock.",
    ),
    "vc_return_exceeds_loan": (
        422,
        "貸し出した数より多くは返却・紛失にできません。数を確認してください。",
        "More cannot come back (or be lost) than was lent. Check the numbers.",
    ),
    "vc_report_conflict": (
        409,
        "同じIDで内容の異なる活動報告がすでにあります。端末の未送信データを確認してください。",
        "A different report with this id already exists. Check the device's outbox.",
    ),
    "vc_already_reported": (
        409,
        "この送り出しの活動報告はすでに届いています。",
        "This dispatch has already been reported.",
    ),
    "vc_token_invalid": (
        404,
        "このQRコードは読み取れないか、このセンターのものではありません。手入力で受付してください。",
        "This QR code cannot be read or belongs to another centre. Check the volunteer in by hand.",
    ),
    "vc_privacy_consent_required": (
        400,
        "個人情報の取扱いへの同意が必要です。内容を確認して同意してください。",
        "You must agree to the privacy notice. Read it and agree.",
    ),
    "vc_not_registered": (
        404,
        "あなたのボランティア登録が見つかりません。受付でお問い合わせください。",
        "Your volunteer registration is not found. Ask at the desk.",
    ),
    "too_many_requests": (
        429,
        "リクエストが多すぎます。しばらく待ってからお試しください。",
        "Too many requests. Wait a while and try again.",
    ),
    "internal_error": (
        500,
        "サーバーで問題が発生しました。時間をおいてもう一度お試しください。",
        "Something went wrong on the server. Try again later.",
    ),
    "service_unavailable": (503, "現在サービスを利用できません。", "The service is unavailable right now."),
    # Sent with Retry-After: a phone's outbox keeps the item and tries again (nothing was stored).
    "database_busy": (
        503,
        "ただいま混み合っています。数秒後にもう一度お試しください（記録は端末に残っています）。",
        "The server is busy. Try again in a few seconds (nothing was lost: it stays on the device).",
    ),
    "database_unavailable": (
        503,
        "データベースに接続し直しています。数秒後にもう一度お試しください。",
        "The server is reconnecting to its database. Try again in a few seconds.",
    ),
}

# Field-level codes used in `errors[]`.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必須項目です。", "This field is required."),
    "invalid": ("値が正しくありません。", "This value is not valid."),
    "invalid_type": ("値の型が正しくありません。", "This value has the wrong type."),
    "too_long": ("長すぎます。", "This value is too long."),
    "too_short": ("短すぎます。", "This value is too short."),
    "unknown_field": ("不明な項目です。", "Unknown field."),
    "unknown_reference": ("この社協には見つかりません。", "No such item in this council."),
    "role_not_allowed": ("この役割の利用者は指定できません。", "A user with this role cannot be given here."),
    "out_of_range": ("値が範囲外です。", "This value is out of range."),
    "taken": ("この値はすでに使われています。", "This value is already taken."),
    "invalid_character": (
        "保存できない文字（NUL文字や対になっていないサロゲート）が含まれています。",
        "This value holds a character that cannot be stored (NUL or an unpaired surrogate).",
    ),
    "too_deep": ("入れ子が深すぎます。", "This value is nested too deeply."),
    "not_a_time": (
        "時刻ではありません（T+分:秒、例 T+9:30）。",
        "This is not a time (T+minutes:seconds, e.g. T+9:30).",
    ),
    "not_text": (
        "テキストとして読めません。ファイルはファイル名を付けて送ってください。",
        "This part is not text in its character set. Send files with a filename.",
    ),
}

# Codes of the per-item results of a batch (a sync push answers each visit on its own, status
# "invalid", "forbidden" or "conflict"). A code that is also a problem above (visit_conflict) takes
# that problem's words, so a single visit and the same visit in a batch read the same.
ITEM_MESSAGES: dict[str, tuple[str, str]] = {
    "invalid": ("記録の形式が正しくありません。", "The record is malformed."),
    "invalid_outcome": ("この活動では使えない結果です。", "This outcome is not valid for this operation."),
    "not_in_operation": ("この世帯はこの活動の対象ではありません。", "This household is not part of this operation."),
    "operation_not_active": ("この活動は実施中ではありません。", "This operation is not running."),
    "not_assigned": ("担当していない世帯の記録はできません。", "You are not assigned to this household."),
    "bad_device_time": (
        "端末の日時が正しくありません。端末の時計を確認してください。",
        "The device time cannot be right. Check the device's clock.",
    ),
    "invalid_character": (
        "保存できない文字（NUL文字など）が含まれています。",
        "The record holds a character that cannot be stored (NUL or similar).",
    ),
    "shelter_required": (
        "避難済の記録には避難先を選んでください（わからないときは「避難先がわからない」を選びます）。",
        "An evacuated record needs its shelter, or shelter_unknown: true when nobody knows where they went.",
    ),
    "unknown_shelter": ("指定された避難所が見つかりません。", "No such shelter."),
    "shelter_ambiguous": (
        "避難先と「避難先がわからない」は同時に指定できません（避難済の記録だけに使えます）。",
        "Give a shelter or shelter_unknown, not both (and only for an evacuated record).",
    ),
}


def item_message(code: str) -> dict[str, str]:
    """`{ja, en}` for a per-item result code (an unknown one reads as "invalid")."""
    if code in CATALOGUE:
        _, ja, en = CATALOGUE[code]
    else:
        ja, en = ITEM_MESSAGES.get(code, ITEM_MESSAGES["invalid"])
    return {"ja": ja, "en": en}


@dataclass
class FieldError:
    field: str
    code: str
    ja: str | None = None
    en: str | None = None
    line: int | None = None  # 1-based line of an uploaded file (a drill scenario) the error is on

    def as_dict(self) -> dict[str, Any]:
        ja, en = FIELD_MESSAGES.get(self.code, FIELD_MESSAGES["invalid"])
        doc: dict[str, Any] = {
            "field": self.field,
            "code": self.code,
            "message": {"ja": self.ja or ja, "en": self.en or en},
        }
        if self.line is not None:
            doc["line"] = self.line
        return doc


@dataclass
class Problem(Exception):
    """An error a client can act on. `detail_*` override the catalogue's words when more precise."""

    code: str
    detail_ja: str | None = None
    detail_en: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise ValueError(f"unknown problem code {self.code!r}: add it to CATALOGUE")
        super().__init__(self.code)

    @property
    def http_status(self) -> int:
        return self.status or CATALOGUE[self.code][0]

    def body(self, request_id: str | None) -> dict[str, Any]:
        _status, ja, en = CATALOGUE[self.code]
        message = {"ja": self.detail_ja or ja, "en": self.detail_en or en}
        doc: dict[str, Any] = {
            "type": f"urn:tonari:problem:{self.code}",
            "title": en,
            "status": self.http_status,
            "detail": message["en"],
            "code": self.code,
            "message": message,
        }
        if self.errors:
            doc["errors"] = [e.as_dict() for e in self.errors]
        if request_id:
            doc["request_id"] = request_id
        doc.update(self.extra)
        return doc
