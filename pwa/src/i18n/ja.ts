// Japanese is the source of truth: every key the UI uses is defined here first.
// en.ts is typed against this object, so a missing English key fails `tsc`,
// and i18n.test.ts fails at test time as well (Vitest does not type-check).
import { accountsJa } from './accounts.ja';
import { consoleJa } from './console.ja';
import { fieldJa } from './field.ja';
import { mapJa } from './map.ja';
import { staffJa } from './staff.ja';
import { vcJa } from './vc.ja';

// Each area keeps its messages in its own file (<area>.ja.ts / <area>.en.ts) and is merged here.
const coreJa = {
  'app.name': 'Tonari 隣',

  'lang.switchTo': 'English',

  'login.signIn': 'ログイン',
  'login.lead': '社会福祉協議会から受け取ったログインIDとパスワードを入力してください。',
  'login.id': 'ログインID',
  'login.password': 'パスワード',
  'login.submitting': 'ログインしています…',
  'login.missingId': 'ログインIDを入力してください。',
  'login.missingPassword': 'パスワードを入力してください。',
  'login.offline': 'インターネットに接続されていません。ログインするには接続が必要です。',

  'wait.seconds': '{seconds}秒ほど待ってから、もう一度お試しください。',
  'wait.minutes': '{minutes}分ほど待ってから、もう一度お試しください。',

  'home.title': 'ホーム',
  'home.loading': '読み込んでいます…',
  'home.tenant': '所属',
  'home.municipality': '市区町村コード',
  'home.offline': 'オフライン',
  'home.offlineHint': '接続が戻ると最新の情報を表示します。表示中の内容は最後に確認したものです。',
  'home.retry': '再読み込み',
  'home.signOut': 'ログアウト',

  'outbox.waiting': '未送信 {count}件',
  'outbox.needsCheck': '要確認 {count}件',
  'outbox.needsSignIn': '再ログインが必要です（記録は端末に保存されています）',
  'outbox.signIn': 'ログインして送信',
  'outbox.title': '送信待ちの記録',
  'outbox.sendNow': '今すぐ送信',
  'outbox.exportJson': '書き出し（JSON）',
  'outbox.exportCsv': '書き出し（CSV）',
  'outbox.conflictList': '内容が食い違う記録（要確認）',
  'outbox.deadList': '受け付けられなかった記録',
  'outbox.persisted': 'この端末は記録を消さずに保存します。',
  'outbox.notPersisted': 'ブラウザが保存領域を整理すると、未送信の記録が消えるおそれがあります。こまめに送信してください。',

  'ops.title': '実施中の活動',
  'ops.none': '実施中の活動はありません。',
  'ops.cached': '前回取得した一覧を表示しています。',
  'ops.noneYet': '活動はまだありません。',
  'ops.status.active': '実施中',
  'ops.status.closed': '終了',

  'op.loading': '担当世帯を読み込んでいます…',
  'op.drillBanner': '【訓練】これは訓練です。実際の災害ではありません。',
  'op.households': '担当世帯（訪問順）',
  'op.noHouseholds': 'この活動で担当している世帯はありません。',
  'op.offlineCached': 'オフラインです。前回取得した担当世帯を表示しています。記録は端末に保存され、接続が戻ると送信されます。',
  'op.notCached': 'オフラインで、この活動の担当世帯はまだ端末に保存されていません。接続してから開いてください。',
  'op.back': 'ホームに戻る',
  'op.note': 'メモ（任意）',
  'op.recordHint': '結果を押すとすぐに記録します。',
  'op.recorded': '{outcome} を記録しました（{time}）',
  'op.status.unreached': '未確認',
  'op.call110': '110番（警察）',
  'op.call119': '119番（消防・救急）',
  'op.emergencyHint': '命に関わる場合は、すぐに通報してください。',

  'role.admin': '管理者',
  'role.staff': '社協職員',
  'role.coordinator': 'コーディネーター',
  'role.commissioner': '民生委員',
  'role.watcher': '見守り協力員',
  'role.vc_volunteer': '災害VCボランティア',
  'role.vc_desk': '災害VC応援職員',

  // Words several areas share: one key per Japanese text (i18n.test.ts).
  'common.all': 'すべて',
  'common.cancel': 'やめる',
  'common.deviceStorage': '端末の保存領域：{used} / {quota} 使用中',
  'common.district': '地区',
  'common.household': '世帯',
  'common.householdDetail': '世帯の詳細',
  'common.name': '氏名',
  'common.noRecords': 'まだ記録はありません。',
  'common.role': '役割',
  'common.shelter': '避難所',
  'common.shelters': '避難所',
  'common.status': '状態',
  'event.operationClosed': '活動の終了',
  'event.operationStarted': '活動の開始',
  'event.visitRecorded': '訪問の記録',

  'error.network': 'サーバーに接続できませんでした。通信状況を確認して、もう一度お試しください。',
  'error.generic': '問題が発生しました。しばらくしてから、もう一度お試しください。',
} as const satisfies Record<string, string>;

export const ja = { ...coreJa, ...fieldJa, ...consoleJa, ...staffJa, ...mapJa, ...accountsJa, ...vcJa } as const;
