"""Shared fixtures: an isolated ASSAY_HOME, databases (SQLite and the real PostgreSQL), the mock server."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assay.testing.mock_openai import MockConfig, MockServer

REPO = Path(__file__).resolve().parent.parent
# the tests mirror src/assay in folders; their shared helpers (known_bots, report_sample, …)
# live here, beside this file, and `python:known_bots:…` targets import them by name
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"
PG_ADMIN_URL = os.environ.get("ASSAY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ASSAY_HOME and no endpoint or key from the developer's shell.

    The converted local model cache is shared (read from the real home) so the slow
    SmolLM2 conversion happens once per machine, not once per test.
    """
    home = tmp_path_factory.mktemp("assay-home")
    real_models = Path(os.environ.get("ASSAY_HOME") or Path.home() / ".assay") / "models"
    if real_models.exists():
        (home / "models").symlink_to(real_models, target_is_directory=True)
    monkeypatch.setenv("ASSAY_HOME", str(home))
    for var in (
        "ASSAY_DB",
        "ASSAY_CONFIG",
        "ASSAY_OPENAI_BASE_URL",
        "OPENAI_BASE_URL",
        "ASSAY_OPENAI_API_KEY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


#: the width every CLI test renders at, whatever terminal (or none) runs the suite
TEST_COLUMNS = 250


@pytest.fixture(autouse=True)
def _fixed_console_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI output in tests does not depend on the terminal the suite runs in.

    rich sizes tables by COLUMNS (read once, when a console is made) or by the terminal,
    and falls back to 80 columns with none; a table cell then wraps differently under
    COLUMNS=60, 300 or no terminal. Every console the CLI has, and every one it makes
    during the test, gets the same fixed width.
    """
    monkeypatch.setenv("COLUMNS", str(TEST_COLUMNS))
    for name in ("assay.cli._common", "assay.cli.risk"):
        module = sys.modules.get(name)
        for attr in ("console", "err_console"):
            console = getattr(module, attr, None)
            if console is not None:
                monkeypatch.setattr(console, "_width", TEST_COLUMNS)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Secrets a test's targets and stores registered do not carry over to the next test."""
    yield
    from assay.core.secrets import forget_secrets

    forget_secrets()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'assay.db'}"


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> bool:
    return _pg_available()


@pytest.fixture
def pg_url(pg_server: bool) -> Iterator[str]:
    """A fresh PostgreSQL database on the real server, dropped afterwards."""
    if not pg_server:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI (.ci/run starts it)")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")
    import psycopg

    name = "assay_t_" + secrets.token_hex(4)
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store tests run on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assay.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def mock_server() -> Iterator[Callable[..., MockServer]]:
    """Factory: mock_server(latency_ms=..., fault_rate=...) starts a mock OpenAI-compatible server."""
    started: list[MockServer] = []

    def make(**kwargs: object) -> MockServer:
        server = MockServer(MockConfig(**kwargs)).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def mock_env(
    mock_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., MockServer]:
    """Like mock_server, and points openai: targets at it."""

    def make(**kwargs: object) -> MockServer:
        server = mock_server(**kwargs)
        monkeypatch.setenv("ASSAY_OPENAI_BASE_URL", server.base_url)
        return server

    return make
