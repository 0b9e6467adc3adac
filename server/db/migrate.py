"""Run Alembic migrations from code (CLI, tests), with the URL passed in rather than read from a file."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from server.settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)
