"""Test-wide settings: Qt offscreen, and Nix never waits for binary caches (no network)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "substituters" not in os.environ.get("NIX_CONFIG", ""):
    os.environ["NIX_CONFIG"] = "substituters =\n" + os.environ.get("NIX_CONFIG", "")
