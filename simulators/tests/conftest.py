"""Test set-up for the simulators."""

from __future__ import annotations

import importlib
import sys

# pytest's importlib import mode names this file "simulators.tests.conftest" and, before the real package
# is imported, registers the project folder simulators/ as a namespace package "simulators", hiding
# simulators/src/simulators. Swap in the real package before any test imports from it.
_shadow = sys.modules.get("simulators")
if _shadow is not None and getattr(_shadow, "__file__", None) is None:
    del sys.modules["simulators"]
    importlib.import_module("simulators")
