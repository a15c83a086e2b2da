"""One running assistant stack (hub + Rasa + actions) shared by this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.assistant.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``python -m hub run`` with its supervised Rasa and action server, healthy."""
    yield from start_stack(Path(tmp_path_factory.mktemp("assistant")))
