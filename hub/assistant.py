"""The assistant's model: which inputs it is trained from, and training it only when they change.

The model file is named after a SHA-256 of its inputs (``config.yml``, the domain, everything
under ``nlu_data/``, the pipeline's own components in ``nlu_components/`` and the ``safety/``
rules they run, and the pinned bot requirements), so an unchanged project never retrains
and a changed one never serves a stale model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hub.settings import Settings
from hub.supervisor import ProcessSpec

ROOT = Path(__file__).resolve().parent.parent
MODEL_PREFIX = "assistant-"


@dataclass(frozen=True)
class AssistantProject:
    """Where the Rasa project and its runtime live."""

    root: Path = ROOT

    @property
    def bot_python(self) -> Path:
        """The Python 3.10 interpreter of ``.venv-bot``."""
        return self.root / ".venv-bot" / "bin" / "python"

    @property
    def rasa(self) -> Path:
        """The ``rasa`` command of ``.venv-bot``."""
        return self.root / ".venv-bot" / "bin" / "rasa"

    @property
    def domain(self) -> Path:
        """``domain.yml``, or the ``domain/`` folder when the domain is split."""
        folder = self.root / "domain"
        return folder if folder.is_dir() else self.root / "domain.yml"

    @property
    def models_dir(self) -> Path:
        """Where trained models are kept."""
        return self.root / "models"

    def runtime_available(self) -> bool:
        """Whether ``.venv-bot`` exists with Rasa in it."""
        return self.rasa.exists()

    def project_available(self) -> bool:
        """Whether the Rasa project files exist."""
        return (self.root / "config.yml").exists() and self.domain.exists()

    def inputs(self) -> list[Path]:
        """Every file the model is trained from, in a stable order."""
        files = [self.root / "config.yml", self.root / "requirements-bot.txt"]
        for folder in (self.domain, self.root / "nlu_data"):
            if folder.is_dir():
                files.extend(sorted(p for p in folder.rglob("*") if p.is_file()))
            elif folder.exists():
                files.append(folder)
        for package in ("nlu_components", "safety"):
            files.extend(sorted((self.root / package).rglob("*.py")))
        return files

    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) over the inputs' relative paths and contents."""
        digest = hashlib.sha256()
        for path in self.inputs():
            digest.update(str(path.relative_to(self.root)).encode() + b"\0")
            digest.update(path.read_bytes() if path.exists() else b"")
            digest.update(b"\0")
        return digest.hexdigest()[:16]

    def model_path(self) -> Path:
        """The model file for the current inputs (it may not exist yet)."""
        return self.models_dir / f"{MODEL_PREFIX}{self.fingerprint()}.tar.gz"

    def environment(self) -> dict[str, str]:
        """The environment every rasa command runs with."""
        return {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }

    def train(self, *, force: bool = False) -> Path:
        """Train unless a model for the current inputs exists; returns the model path."""
        target = self.model_path()
        if target.exists() and not force:
            return target
        self.models_dir.mkdir(exist_ok=True)
        command = [
            str(self.rasa),
            "train",
            "--config",
            "config.yml",
            "--domain",
            str(self.domain.relative_to(self.root)),
            "--data",
            "nlu_data",
            "--out",
            str(self.models_dir),
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
        ]
        subprocess.run(command, cwd=self.root, env=self.environment(), check=True)  # noqa: S603
        for old in self.models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"):
            if old != target:
                old.unlink()
        return target


def train_command(force: bool = False) -> int:
    """``python -m hub train``: train when the inputs changed; say why when it cannot."""
    project = AssistantProject()
    if not project.runtime_available():
        print(
            "The assistant's runtime (.venv-bot, Python 3.10) is missing: run `make setup` "
            "(it says how to get python3.10 when it is not installed).",
            file=sys.stderr,
        )
        return 1
    if not project.project_available():
        print("No Rasa project (config.yml, domain) in this checkout yet.", file=sys.stderr)
        return 1
    target = project.model_path()
    if target.exists() and not force:
        print(f"Model is current: {target.relative_to(project.root)}")
        return 0
    print(f"Training the assistant's model into {target.relative_to(project.root)} ...")
    try:
        project.train(force=force)
    except subprocess.CalledProcessError as error:
        print(f"Training failed (exit code {error.returncode}).", file=sys.stderr)
        return 1
    print("Model trained.")
    return 0


def process_specs(settings: Settings, project: AssistantProject, model: Path) -> list[ProcessSpec]:
    """How to run Rasa and the action server for ``settings`` with ``model``."""
    rasa = urlsplit(settings.rasa_url)
    actions = urlsplit(settings.actions_url)
    logs = settings.var_dir / "logs"
    env = project.environment()
    rasa_env = {**env, "RASA_ACTIONS_WEBHOOK": f"{settings.actions_url}/webhook"}
    endpoints = "endpoints.yml"
    if settings.redis_url:
        redis = urlsplit(settings.redis_url)
        endpoints = "endpoints.redis.yml"
        rasa_env |= {
            "REDIS_HOST": redis.hostname or "127.0.0.1",
            "REDIS_PORT": str(redis.port or 6379),
            "REDIS_DB": (redis.path or "/0").lstrip("/") or "0",
            "REDIS_PASSWORD": redis.password or "",
        }
    token = settings.rasa_token.reveal()
    return [
        ProcessSpec(
            name="rasa",
            argv=[
                str(project.rasa),
                "run",
                "--enable-api",
                # One argument: a token_urlsafe token may start with "-", which argparse would
                # take for an option (Rasa then exits with "expected one argument").
                f"--auth-token={token}",
                "--interface",
                rasa.hostname or "127.0.0.1",
                "--port",
                str(rasa.port or 5005),
                "--model",
                str(model),
                "--endpoints",
                endpoints,
                "--credentials",
                "credentials.yml",
            ],
            cwd=project.root,
            env=rasa_env,
            ready_url=f"{settings.rasa_url}/status?token={token}",
            log_path=logs / "rasa.log",
        ),
        ProcessSpec(
            name="actions",
            argv=[
                str(project.rasa),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(actions.port or 5055),
            ],
            cwd=project.root,
            env={
                **env,
                # rasa-sdk binds to SANIC_HOST (0.0.0.0 by default): keep it on loopback.
                "SANIC_HOST": actions.hostname or "127.0.0.1",
                "HUB_URL": f"http://{_client_host(settings.host)}:{settings.port}",
            },
            ready_url=f"{settings.actions_url}/health",
            log_path=logs / "actions.log",
        ),
    ]


def _client_host(listen_host: str) -> str:
    return "127.0.0.1" if listen_host in ("0.0.0.0", "::", "") else listen_host  # noqa: S104
