"""Settings: the generated secret key is one key, even when workers start together."""

from __future__ import annotations

import stat
import threading

from server.settings import _secret_key


def test_workers_starting_together_share_one_secret_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TONARI_SECRET_KEY", raising=False)
    for trial in range(30):
        var = tmp_path / f"v{trial}"
        keys: list[str] = []
        errors: list[BaseException] = []

        def start() -> None:
            try:
                keys.append(_secret_key(var))
            except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(keys)) == 1 and len(keys[0]) >= 40
        assert stat.S_IMODE((var / "secret-key").stat().st_mode) == 0o600
        assert [p.name for p in var.iterdir()] == ["secret-key"]  # no temp files left
