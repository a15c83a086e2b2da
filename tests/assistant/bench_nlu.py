"""Time to train and time to answer for a pipeline config (docs/assistant.md, "Pipeline").

Run with the bot's environment, on an otherwise idle machine:

    RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 \
        .venv-bot/bin/python tests/assistant/bench_nlu.py config.yml [more configs...]

For each config: a full ``rasa train`` (NLU and dialogue, no cache) timed on the wall clock,
the model's load time, and the parse latency of every utterance of the held-out split
(``tests/assistant/nlu_test``) in process, as p50/p95. Prints one Markdown row per config.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA = Path(sys.executable).parent / "rasa"


def utterances() -> list[str]:
    """The held-out test utterances, annotations removed."""
    found = []
    for path in sorted((ROOT / "tests" / "assistant" / "nlu_test").glob("*/*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("- ") and not line.startswith("- intent:"):
                found.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]))
    return found


def train(config: Path, out: Path) -> tuple[float, Path]:
    """Train from scratch; returns (seconds, model path)."""
    start = time.monotonic()
    subprocess.run(  # noqa: S603 - rasa of this environment
        [
            str(RASA),
            "train",
            "--config",
            str(config),
            "--domain",
            str(ROOT / "domain.yml"),
            "--data",
            str(ROOT / "nlu_data"),
            "--out",
            str(out),
            "--fixed-model-name",
            "bench",
            "--force",
        ],
        check=True,
        capture_output=True,
        cwd=out,
    )
    return time.monotonic() - start, out / "bench.tar.gz"


async def answer_times(model: Path) -> tuple[float, list[float]]:
    """(load seconds, per-utterance parse milliseconds)."""
    from rasa.core.agent import Agent

    start = time.monotonic()
    agent = Agent.load(str(model))
    loaded = time.monotonic() - start
    texts = utterances()
    await agent.parse_message(texts[0])  # warm-up
    times = []
    for text in texts:
        begin = time.perf_counter()
        await agent.parse_message(text)
        times.append((time.perf_counter() - begin) * 1000)
    return loaded, times


def main(configs: list[str]) -> None:
    """Print a Markdown row per config."""
    print("| config | train (s) | load (s) | parse p50 (ms) | parse p95 (ms) |")
    print("|---|---|---|---|---|")
    for name in configs:
        with tempfile.TemporaryDirectory() as folder:
            seconds, model = train(Path(name).resolve(), Path(folder))
            loaded, times = asyncio.run(answer_times(model))
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"| {name} | {seconds:.1f} | {loaded:.1f} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["config.yml"])
