from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import resolve_settings
from shipyard.errors import InvalidInputError


def test_nothing_set_means_the_folder_in_the_current_directory(
    tmp_path: Path, monkeypatch: object
) -> None:
    settings = resolve_settings(env={})
    assert settings.kind == "sql"
    assert settings.uri == f"sqlite:///{Path('.shipyard').absolute() / 'shipyard.db'}"
    assert settings.artifacts_uri == str(Path(".shipyard").absolute() / "artifacts")


def test_home_moves_the_default_store(tmp_path: Path) -> None:
    settings = resolve_settings(env={"SHIPYARD_HOME": str(tmp_path / "h")})
    assert settings.uri == f"sqlite:///{tmp_path / 'h' / 'shipyard.db'}"
    assert settings.artifacts_uri == str(tmp_path / "h" / "artifacts")


def test_http_uri_is_remote_and_carries_the_token() -> None:
    settings = resolve_settings(
        env={"SHIPYARD_URI": "http://127.0.0.1:5000/", "SHIPYARD_TOKEN": "t0k"}
    )
    assert (settings.kind, settings.uri, settings.token) == ("rest", "http://127.0.0.1:5000", "t0k")
    assert settings.artifacts_uri is None


def test_database_urls_are_local_and_postgres_uses_psycopg(tmp_path: Path) -> None:
    pg = resolve_settings(env={"SHIPYARD_URI": "postgresql://u@db/shipyard"})
    assert pg.kind == "sql"
    assert pg.uri == "postgresql+psycopg://u@db/shipyard"
    short = resolve_settings(env={"SHIPYARD_URI": "postgres://u@db/shipyard"})
    assert short.uri == "postgresql+psycopg://u@db/shipyard"
    lite = resolve_settings(env={"SHIPYARD_URI": f"sqlite:///{tmp_path}/x.db"})
    assert lite.artifacts_uri == str(tmp_path / "artifacts")


def test_a_plain_path_is_a_store_folder(tmp_path: Path) -> None:
    settings = resolve_settings(env={"SHIPYARD_URI": str(tmp_path / "store")})
    assert settings.uri == f"sqlite:///{tmp_path / 'store' / 'shipyard.db'}"


def test_explicit_arguments_win_over_the_environment(tmp_path: Path) -> None:
    settings = resolve_settings(
        uri=str(tmp_path),
        artifacts_uri="s3://bucket/prefix",
        env={"SHIPYARD_URI": "http://elsewhere", "SHIPYARD_EXPERIMENT": "mnist"},
    )
    assert settings.kind == "sql"
    assert settings.artifacts_uri == "s3://bucket/prefix"
    assert settings.experiment == "mnist"


@pytest.mark.parametrize(
    "uri", ["mysql://x/y", "s3://bucket/store", "file:///tmp/x", "foo+bar://h"]
)
def test_an_unknown_url_scheme_is_refused_not_made_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match="sqlite:///"):
        resolve_settings(uri, env={})
    with pytest.raises(InvalidInputError, match="unknown store URL scheme"):
        resolve_settings(env={"SHIPYARD_URI": uri})
    assert list(tmp_path.iterdir()) == []


def test_windows_style_and_relative_folders_still_work(tmp_path: Path) -> None:
    assert resolve_settings(str(tmp_path / "a:b"), env={}).kind == "sql"
