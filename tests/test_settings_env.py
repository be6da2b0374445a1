"""Settings come from the environment, and bad values stop the process at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chatbot.envconf import (
    ConfigError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
)
from tests.services import ROOT, app_env, manage


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_accepts_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "y e s"])
def test_env_bool_rejects_typos(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ConfigError, match="X_FLAG"):
        env_bool("X_FLAG", True)


def test_unset_variables_give_the_default(monkeypatch):
    for name in ("X_FLAG", "X_INT", "X_FLOAT", "X_LIST", "X_STR", "X_CHOICE"):
        monkeypatch.delenv(name, raising=False)
    assert env_bool("X_FLAG", True) is True
    assert env_int("X_INT", 7) == 7
    assert env_float("X_FLOAT", 0.25) == 0.25
    assert env_list("X_LIST", ["a"]) == ["a"]
    assert env_str("X_STR", "d") == "d"
    assert env_choice("X_CHOICE", "b", ("a", "b")) == "b"


def test_env_int_parses_and_checks_the_minimum(monkeypatch):
    monkeypatch.setenv("X_INT", " 42 ")
    assert env_int("X_INT", 1, min_value=1) == 42
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ConfigError, match=r"X_INT must be >= 1"):
        env_int("X_INT", 1, min_value=1)
    for bad in ("4.5", "ten", "0x10"):
        monkeypatch.setenv("X_INT", bad)
        with pytest.raises(ConfigError, match="X_INT must be an integer"):
            env_int("X_INT", 1)


def test_env_float_parses_and_checks_the_range(monkeypatch):
    monkeypatch.setenv("X_FLOAT", "0.75")
    assert env_float("X_FLOAT", 0.5, min_value=0.0, max_value=1.0) == 0.75
    for out_of_range in ("1.5", "-0.1"):
        monkeypatch.setenv("X_FLOAT", out_of_range)
        with pytest.raises(ConfigError, match="X_FLOAT must be within"):
            env_float("X_FLOAT", 0.5, min_value=0.0, max_value=1.0)
    monkeypatch.setenv("X_FLOAT", "half")
    with pytest.raises(ConfigError, match="X_FLOAT must be a number"):
        env_float("X_FLOAT", 0.5)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example, ,b.example ,")
    assert env_list("X_LIST") == ["a.example", "b.example"]
    monkeypatch.setenv("X_LIST", "")
    assert env_list("X_LIST", ["default"]) == []  # set-but-empty means "none"


def test_env_choice_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("X_CHOICE", "llama")
    with pytest.raises(ConfigError, match="X_CHOICE must be one of a, b"):
        env_choice("X_CHOICE", "a", ("a", "b"))


def _settings_import(
    env: dict[str, str], code: str = "import chatbot.settings"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("CHATBOT_GENERATOR", "gpt-9"),
        ("CHATBOT_MAX_MESSAGE_CHARS", "lots"),
        ("CHATBOT_CONFIDENCE_THRESHOLD", "1.5"),
        ("DJANGO_DEBUG", "maybe"),
        ("INFERENCE_MODE", "remote"),
    ],
)
def test_a_bad_setting_stops_the_process_naming_the_variable(tmp_path, name, value):
    result = _settings_import(app_env(DATA_DIR=str(tmp_path), **{name: value}))
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and name in result.stderr


def test_a_deployment_can_refuse_the_dev_secret_key(tmp_path):
    env = app_env(DATA_DIR=str(tmp_path), DJANGO_INSECURE_DEV_KEY="0")
    env.pop("DJANGO_SECRET_KEY", None)
    result = _settings_import(env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_sqlite_database_url_with_an_absolute_path(tmp_path):
    db_file = tmp_path / "nested" / "chat.sqlite3"
    db_file.parent.mkdir()
    data_dir = tmp_path / "data"
    env = app_env(DATABASE_URL=f"sqlite:///{db_file}", DATA_DIR=str(data_dir))
    env.pop("REDIS_URL", None)

    migrate = manage(env, "migrate", "--noinput", timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    check = manage(env, "check", timeout=120)
    assert check.returncode == 0, check.stderr

    assert db_file.is_file() and db_file.stat().st_size > 0
    assert not (data_dir / "db.sqlite3").exists()  # the URL, not the default, was used
    import sqlite3

    with sqlite3.connect(db_file) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"chatbot_conversation", "chatbot_message", "faq_ingest_faq"} <= tables


def test_an_invalid_database_url_is_a_config_error(tmp_path):
    result = _settings_import(app_env(DATA_DIR=str(tmp_path), DATABASE_URL="notadb://x"))
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def _rate_limit_from_env(tmp_path, value: str | None) -> subprocess.CompletedProcess:
    env = app_env(DATA_DIR=str(tmp_path))
    env.pop("CHATBOT_MESSAGES_PER_MINUTE", None)
    if value is not None:
        env["CHATBOT_MESSAGES_PER_MINUTE"] = value
    return _settings_import(env, "import chatbot.settings as s; print(s.MESSAGES_PER_MINUTE)")


@pytest.mark.parametrize("value, expected", [(None, "10"), ("25", "25"), (" 1 ", "1")])
def test_the_rate_limit_comes_from_the_environment(tmp_path, value, expected):
    result = _rate_limit_from_env(tmp_path, value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize("value", ["0", "-5", "ten", "2.5"])
def test_a_bad_rate_limit_stops_the_process_naming_the_variable(tmp_path, value):
    result = _rate_limit_from_env(tmp_path, value)
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and "CHATBOT_MESSAGES_PER_MINUTE" in result.stderr
