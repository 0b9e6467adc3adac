// Japanese is the source of truth: every key the UI uses is defined here first.
// en.ts is typed against this object, so a missing English key fails `tsc`,
// and i18n.test.ts fails at test time as well (Vitest does not type-check).
export const ja = {
  'app.name': 'Tonari 隣',

  'lang.switchTo': 'English',

  'login.title': 'ログイン',
  'login.lead': '社会福祉協議会から受け取ったログインIDとパスワードを入力してください。',
  'login.id': 'ログインID',
  'login.password': 'パスワード',
  'login.submit': 'ログイン',
  'login.submitting': 'ログインしています…',
  'login.missingId': 'ログインIDを入力してください。',
  'login.missingPassword': 'パスワードを入力してください。',
  'login.offline': 'インターネットに接続されていません。ログインするには接続が必要です。',

  'wait.seconds': '{seconds}秒ほど待ってから、もう一度お試しください。',
  'wait.minutes': '{minutes}分ほど待ってから、もう一度お試しください。',

  'home.title': 'ホーム',
  'home.loading': '読み込んでいます…',
  'home.displayName': '氏名',
  'home.login': 'ログインID',
  'home.role': '役割',
  'home.tenant': '所属',
  'home.municipality': '市区町村コード',
  'home.offline': 'オフライン',
  'home.offlineHint': '接続が戻ると最新の情報を表示します。表示中の内容は最後に確認したものです。',
  'home.retry': '再読み込み',
  'home.signOut': 'ログアウト',

  'role.admin': '管理者',
  'role.staff': '社協職員',
  'role.coordinator': 'コーディネーター',
  'role.commissioner': '民生委員',
  'role.watcher': '見守り協力員',
  'role.vc_volunteer': '災害VCボランティア',

  'error.network': 'サーバーに接続できませんでした。通信状況を確認して、もう一度お試しください。',
  'error.generic': '問題が発生しました。しばらくしてから、もう一度お試しください。',
} as const satisfies Record<string, string>;
