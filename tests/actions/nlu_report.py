"""Per-language intent macro-F1 from ``rasa test nlu --successes`` output.

``rasa test nlu --nlu tests/assistant/nlu_test --model MODEL --out DIR --successes`` writes
``intent_successes.json`` and ``intent_errors.json`` (one entry per test utterance, with its
gold ``intent`` and ``intent_prediction``). Rasa's own ``intent_report.json`` mixes the two
languages; this script splits the utterances by the test file they come from
(``nlu_test/pl/`` or ``nlu_test/en/``) and computes the macro-F1 of each language.

    python tests/actions/nlu_report.py DIR [--test-dir tests/assistant/nlu_test] [--min 0.90]
        [--emergency-recall 1.0] [--max-false-alarms 0.01]

Besides macro-F1 it reports, per language, the ``emergency`` recall (emergency examples the
model, with the safety gate, called ``emergency``) and the false alarms (other examples it
called ``emergency``, as a share of them). Exits 1 when a language is below ``--min``, below
``--emergency-recall`` or above ``--max-false-alarms``. Runs with the bot's Python (3.10) or
the hub's.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

EMERGENCY = "emergency"
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def plain(example: str) -> str:
    """An example without entity annotations, as rasa reports its text."""
    return ANNOTATION.sub(lambda m: m.group(1) or m.group(2), example).strip()


def languages_of_examples(test_dir: Path) -> dict[str, str]:
    """Text of every test example -> its language (the name of its folder)."""
    found: dict[str, str] = {}
    for path in sorted(test_dir.glob("*/*.yml")):
        language = path.parent.name
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("- ") and not stripped.startswith("- intent:"):
                text = plain(stripped[2:])
                if found.get(text, language) != language:
                    raise SystemExit(f"{text!r} is a test example in two languages")
                found[text] = language
    return found


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Macro-averaged F1 over the labels seen as gold or predicted (sklearn's default set)."""
    labels = sorted({gold for gold, _ in pairs} | {predicted for _, predicted in pairs})
    scores: list[float] = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def load_predictions(results_dir: Path) -> Iterable[dict[str, object]]:
    """The entries of intent_successes.json and intent_errors.json."""
    for name in ("intent_successes.json", "intent_errors.json"):
        path = results_dir / name
        if path.exists():
            yield from json.loads(path.read_text(encoding="utf-8"))


def per_language(results_dir: Path, test_dir: Path) -> dict[str, dict[str, float]]:
    """{language: {"macro_f1": .., "accuracy": .., "n": ..}}."""
    language_of = languages_of_examples(test_dir)
    pairs: dict[str, list[tuple[str, str]]] = {}
    for entry in load_predictions(results_dir):
        text = str(entry["text"]).strip()
        language = language_of.get(text)
        if language is None:
            raise SystemExit(f"not a test example of {test_dir}: {text!r}")
        prediction = entry.get("intent_prediction") or {}
        predicted = str(prediction.get("name") if isinstance(prediction, dict) else prediction)
        pairs.setdefault(language, []).append((str(entry["intent"]), predicted))
    report = {}
    for language, items in sorted(pairs.items()):
        correct = sum(1 for gold, predicted in items if gold == predicted)
        emergencies = [p for g, p in items if g == EMERGENCY]
        others = [p for g, p in items if g != EMERGENCY]
        report[language] = {
            "macro_f1": macro_f1(items),
            "accuracy": correct / len(items),
            "n": float(len(items)),
            "emergency_recall": (
                sum(1 for p in emergencies if p == EMERGENCY) / len(emergencies)
                if emergencies
                else 1.0
            ),
            "false_alarms": (
                sum(1 for p in others if p == EMERGENCY) / len(others) if others else 0.0
            ),
        }
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; 1 when a language is under the minimum."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results_dir", type=Path)
    parser.add_argument("--test-dir", type=Path, default=Path("tests/assistant/nlu_test"))
    parser.add_argument("--min", type=float, default=0.90)
    parser.add_argument("--emergency-recall", type=float, default=0.0)
    parser.add_argument("--max-false-alarms", type=float, default=1.0)
    args = parser.parse_args(argv)
    report = per_language(args.results_dir, args.test_dir)
    print("language  utterances  accuracy  macro-F1  emergency recall  false alarms")
    failed = False
    for language, row in report.items():
        print(
            f"{language:8s}  {int(row['n']):10d}  {row['accuracy']:8.3f}  {row['macro_f1']:8.3f}"
            f"  {row['emergency_recall']:16.3f}  {row['false_alarms']:12.3f}"
        )
        failed = failed or row["macro_f1"] < args.min
        failed = failed or row["emergency_recall"] < args.emergency_recall
        failed = failed or row["false_alarms"] > args.max_false_alarms
    if len(report) < 2:
        print("expected results for both languages", file=sys.stderr)
        return 1
    if failed:
        print(
            f"below the goal in some language (macro-F1 >= {args.min}, emergency recall >= "
            f"{args.emergency_recall}, false alarms <= {args.max_false_alarms})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
