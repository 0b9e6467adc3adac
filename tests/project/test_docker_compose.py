"""docker-compose.yml and the Dockerfile, checked by parsing (no Docker engine runs in CI)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _stages(dockerfile: str) -> list[tuple[str, str]]:
    """(image, stage name) for every FROM line."""
    stages = []
    for line in dockerfile.splitlines():
        m = re.match(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", line, re.IGNORECASE)
        if m:
            stages.append((m.group(1), (m.group(2) or "").lower()))
    return stages


def test_services(compose: dict) -> None:
    assert set(compose["services"]) == {"db", "migrate", "app"}


def test_db_is_postgis_15_3_3(compose: dict) -> None:
    # Same PostgreSQL / PostGIS minor versions as Debian 12's packages used by `make run`.
    assert compose["services"]["db"]["image"] == "postgis/postgis:15-3.3"


def test_db_environment(compose: dict) -> None:
    env = _env(compose["services"]["db"])
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "TONARI_DB_PASSWORD", "TONARI_OWNER_PASSWORD"):
        assert env.get(key), key
    assert env["POSTGRES_DB"] == "tonari"


def test_db_healthcheck_uses_pg_isready_over_tcp(compose: dict) -> None:
    hc = compose["services"]["db"]["healthcheck"]
    test = hc["test"]
    command = test if isinstance(test, str) else " ".join(test[1:])
    assert "pg_isready" in command
    # Over TCP: during first-run init the server only listens on its socket.
    assert "-h 127.0.0.1" in command or "-h localhost" in command
    assert hc.get("interval") and hc.get("retries")


def test_db_named_volume(compose: dict) -> None:
    volumes = compose["services"]["db"]["volumes"]
    data = [v for v in volumes if isinstance(v, str) and v.endswith(":/var/lib/postgresql/data")]
    assert len(data) == 1
    name = data[0].split(":", 1)[0]
    assert not name.startswith((".", "/")), "the data volume must be a named volume"
    assert name in (compose.get("volumes") or {})


def test_db_init_script_creates_non_superuser_app_role(compose: dict) -> None:
    mounts = [v for v in compose["services"]["db"]["volumes"] if "/docker-entrypoint-initdb.d/" in str(v)]
    assert mounts, "the db service mounts an init script"
    host_path, target = mounts[0].split(":")[:2]
    script = (ROOT / host_path).resolve()
    assert script.is_file(), host_path
    assert script.is_relative_to(ROOT / "scripts" / "docker")
    # Runs after the image's 10_postgis.sh, as a shell script.
    assert Path(target).name > "10_postgis.sh" and target.endswith(".sh")
    text = script.read_text(encoding="utf-8")
    assert "NOSUPERUSER" in text and "CREATEDB" in text
    assert "tonari_template" in text and "IS_TEMPLATE true" in text
    assert "CREATE EXTENSION IF NOT EXISTS postgis" in text
    # Two roles: the owner (owns the database, runs migrations) and the app's DML-only login,
    # a member of the group the migrations grant to (README, "Production notes").
    assert re.search(r"ALTER ROLE tonari_owner WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE\b", text)
    assert re.search(r"ALTER ROLE tonari WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE\b.*NOBYPASSRLS", text)
    assert "CREATE ROLE tonari_app NOLOGIN" in text and "GRANT tonari_app TO tonari;" in text
    assert 'ALTER DATABASE :"appdb" OWNER TO tonari_owner' in text
    assert "CREATE DATABASE tonari_template OWNER tonari_owner" in text


def test_app_build_depends_and_port(compose: dict) -> None:
    app = compose["services"]["app"]
    build = app["build"]
    if isinstance(build, str):
        build = {"context": build}
    assert build["context"] == "."
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    ports = [str(p) for p in app["ports"]]
    assert any(p.endswith("8000:8000") for p in ports), ports


def test_app_database_url_points_at_db_as_app_role(compose: dict) -> None:
    env = _env(compose["services"]["app"])
    url = env["DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://tonari:")
    assert "@db:5432/tonari" in url
    # The app never holds the owner's password.
    assert "TONARI_MIGRATE_DATABASE_URL" not in env and "tonari_owner" not in " ".join(env.values())


def test_migrations_run_as_the_owner_before_the_app_serves_on_all_interfaces(compose: dict) -> None:
    migrate = compose["services"]["migrate"]
    url = _env(migrate)["TONARI_MIGRATE_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://tonari_owner:") and "@db:5432/tonari" in url
    command = migrate["command"]
    command = command if isinstance(command, str) else " ".join(command)
    assert "server.cli migrate" in command
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    app = compose["services"]["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    command = app["command"]
    command = command if isinstance(command, str) else " ".join(command)
    assert "server.cli serve" in command and "migrate" not in command
    assert "--host 0.0.0.0" in command and "--port 8000" in command


def test_dockerfile_stages(dockerfile: str) -> None:
    stages = _stages(dockerfile)
    assert len(stages) >= 2
    builder_image, builder_name = stages[0]
    assert builder_image.startswith("node:20"), builder_image
    assert builder_name
    final_image, _ = stages[-1]
    assert final_image == "python:3.11-slim-bookworm"
    # The PWA is built in the node stage and copied into the runtime image.
    assert re.search(r"RUN\s+npm ci\b", dockerfile)
    assert re.search(r"RUN\s+npm run build\b", dockerfile)
    assert re.search(rf"COPY\s+--from={re.escape(builder_name)}\s+\S*/dist\s+\S*pwa/dist", dockerfile)
    assert "EXPOSE 8000" in dockerfile
    # Not root at runtime.
    assert re.search(r"^USER\s+(?!root\b)\S+", dockerfile, re.MULTILINE)


def test_dockerignore_keeps_local_state_out() -> None:
    lines = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", "var", "**/node_modules", "pwa/dist", "*.pem"):
        assert entry in lines, entry


def test_the_pwa_build_stage_has_the_shared_vocabulary(dockerfile: str) -> None:
    """pwa/src/vocab.ts imports the vocabulary from outside pwa/: the node stage must copy it there."""
    build_stage = re.split(r"^\s*FROM\s", dockerfile, flags=re.MULTILINE | re.IGNORECASE)[1]
    workdir = re.findall(r"^\s*WORKDIR\s+(\S+)", build_stage, re.MULTILINE)[-1]
    [imported] = re.findall(r"from '([^']*vocabulary\.json)'", (ROOT / "pwa/src/vocab.ts").read_text(encoding="utf-8"))
    needed = posixpath.normpath(posixpath.join(workdir, "src", imported))
    copies = re.findall(r"^\s*COPY\s+(\S+)\s+(\S+)\s*$", build_stage.split("npm run build")[0], re.MULTILINE)
    assert ("vocab/vocabulary.json", needed) in copies or ("vocab/", posixpath.dirname(needed) + "/") in copies, copies
