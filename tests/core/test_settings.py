"""Settings: one module reads the environment, every variable is documented, and the generated
secret key is one key, even when workers start together."""

from __future__ import annotations

import ast
import re
import stat
import threading
from pathlib import Path

from server.settings import _secret_key


def test_workers_starting_together_share_one_secret_key(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TONARI_SECRET_KEY", raising=False)
    for trial in range(30):
        var = tmp_path / f"v{trial}"
        keys: list[str] = []
        errors: list[BaseException] = []

        def start(var: Path, keys: list[str], errors: list[BaseException]) -> None:
            try:
                keys.append(_secret_key(var))
            except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(var, keys, errors)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(keys)) == 1 and len(keys[0]) >= 40
        assert stat.S_IMODE((var / "secret-key").stat().st_mode) == 0o600
        assert [p.name for p in var.iterdir()] == ["secret-key"]  # no temp files left


ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "seed", "geo", "imports", "vocab")


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in {"environ", "getenv"} for a in node.names)
        ):
            return True
    return False


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if _reads_environment(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert readers == ["server/settings.py"]


def test_every_variable_the_settings_read_is_in_the_readme() -> None:
    names = set(
        re.findall(r'"((?:TONARI|DATABASE)_[A-Z_]+)"', (ROOT / "server/settings.py").read_text(encoding="utf-8"))
    )
    assert {"DATABASE_URL", "TONARI_VAPID_SUBJECT", "TONARI_HOST", "TONARI_TRUSTED_PROXIES"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings (environment variables)", 1)[1].split("\n## ", 1)[0]
    assert sorted(n for n in names if f"`{n}`" not in table) == []
