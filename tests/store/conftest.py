from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store, StoreSettings


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sitbreak.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(StoreSettings(path=str(db_path), retention_days=2)) as s:
        yield s
