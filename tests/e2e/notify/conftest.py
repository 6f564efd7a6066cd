"""The notify event factories and settings fixtures, shared with the unit tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parents[2] / "unit" / "notify" / "conftest.py"
_spec = importlib.util.spec_from_file_location("notify_shared_fixtures_e2e", _path)
_shared = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = _shared  # type: ignore[union-attr]
_spec.loader.exec_module(_shared)  # type: ignore[union-attr]
ev, settings = _shared.ev, _shared.settings
