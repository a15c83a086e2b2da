"""How the hub starts the assistant's processes."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.assistant import AssistantProject, process_specs
from hub.settings import Settings


def test_a_rasa_token_starting_with_a_dash_reaches_rasa_as_the_token(tmp_path: Path) -> None:
    # secrets.token_urlsafe() starts with "-" one time in 64; given as its own argument,
    # argparse took it for an option and Rasa exited with "expected one argument".
    token = "-Xy" + "a" * 61
    settings = Settings.from_env({"VAR_DIR": str(tmp_path), "RASA_TOKEN": token})
    specs = process_specs(settings, AssistantProject(), tmp_path / "model.tar.gz")
    [rasa] = [spec for spec in specs if spec.name == "rasa"]
    # The option as `rasa run` declares it (rasa/cli/arguments/run.py).
    parser = argparse.ArgumentParser()
    parser.add_argument("-t", "--auth-token", type=str)
    parsed, _ = parser.parse_known_args(rasa.argv[2:])
    assert parsed.auth_token == token
