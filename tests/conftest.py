"""Shared fixtures. Tests start their own services on 127.0.0.1 and clean up by PID."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property-based tests: a few hundred cases per test in `make test`; SITBREAK_FUZZ=1 runs a long fuzz
# (twenty thousand each) for when a parser or decoder changes.
settings.register_profile("default", max_examples=300)
settings.register_profile("fuzz", max_examples=20_000)
settings.load_profile("fuzz" if os.environ.get("SITBREAK_FUZZ") else "default")


def examples(n: int) -> int:
    """A test's own example count (one that is costly per case), scaled up in a fuzz run."""
    return n * 60 if os.environ.get("SITBREAK_FUZZ") else n


# Fixture modules shared by several test folders; append, do not replace.
pytest_plugins = ["tests.mqtt_fixtures", "tests.ble_fixtures"]

REPO = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The labelled recordings: $SITBREAK_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("SITBREAK_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = data_root()
    if not (root / "hugadb").is_dir() or not (root / "hapt").is_dir():
        reason = (
            f"labelled recordings not found in {root} "
            "(set SITBREAK_DATA to the folder holding hugadb/ and hapt/)"
        )
        if os.environ.get("SITBREAK_REQUIRE_DATA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return root
