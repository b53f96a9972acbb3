"""Point names: readable, store-safe, and a function of the parameters alone."""

from __future__ import annotations

import re

from sweepgui.nix.interpreter import readable_by_build_users
from sweepgui.nix.naming import point_name
from sweepgui.params import Parameters

SAFE = re.compile(r"^[A-Za-z0-9+\-._?=]+$")


def params(**groups) -> dict:
    return Parameters(**groups).model_dump(mode="json")


def test_names_list_what_differs_from_the_defaults():
    assert point_name(params()) == "defaults"
    name = point_name(params(fluid={"density": 990.0}, state={"temperature": 283.15}))
    assert name == "density=990.0-temperature=283.15"


def test_names_are_store_safe_and_short_for_any_strings():
    # a material of one's own (every property given) may carry any name
    own = {k: v for k, v in params()["material"].items() if k != "name"}
    for text in ['a"b ${x} \\ \n', "ünïcode 漢字", "../../etc", ".hidden", "x" * 200]:
        name = point_name(params(material={**own, "name": text}))
        assert SAFE.match(name) and not name.startswith(".") and len(name) <= 90


def test_equal_values_equal_names():
    a = point_name(params(pipe={"length": 0.1 + 0.2}))
    b = point_name(params(pipe={"length": 0.30000000000000004}))
    c = point_name(params(pipe={"length": 0.3}))
    assert a == b != c


def test_build_users_reach_system_paths_but_not_private_homes(tmp_path):
    assert readable_by_build_users("/bin/sh")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    exe = private / "python"
    exe.write_text("")
    exe.chmod(0o755)
    assert not readable_by_build_users(str(exe))
    private.chmod(0o755)
    assert readable_by_build_users(str(exe)) == all(
        p.stat().st_mode & 0o001 for p in [tmp_path, *tmp_path.parents] if str(p) != "/")
