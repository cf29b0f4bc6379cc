from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def base(**extra: object) -> dict[str, object]:
    return {"GITHUB_APP_ID": 5, "GITHUB_WEBHOOK_SECRET": "s", **extra}


def test_the_private_key_is_pem_text_or_a_path(tmp_path: Path, app_keys: tuple[str, str]) -> None:
    pem = app_keys[0]
    one_line = pem.strip().replace("\n", "\\n")  # as a .env file or a CI secret often holds it
    assert load_settings(**base(GITHUB_APP_PRIVATE_KEY=one_line)).private_key_pem == pem
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    assert load_settings(**base(GITHUB_APP_PRIVATE_KEY=str(key_file))).private_key_pem == pem
    with pytest.raises(SettingsError, match="GITHUB_APP_PRIVATE_KEY"):
        load_settings(**base(GITHUB_APP_PRIVATE_KEY=str(tmp_path / "missing.pem")))


def test_paths_become_absolute_and_the_database_defaults_to_sqlite(
    tmp_path: Path, app_keys: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(**base(GITHUB_APP_PRIVATE_KEY=app_keys[0], SWARM_DATA_DIR="data"))
    assert settings.data_dir == tmp_path / "data"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'swarm.sqlite'}"
    assert settings.github_api_url == "https://api.github.com"
