# The example of lib.compute (tests/nix/test_lib.py and the flake's checks.lib-example):
# a = 1 and b = 2 fixed, c = 1, 2, 3 swept; check.py computes each point (100 a + 10 b + c)
# and verify.py checks the result. `python` is any Python 3 (an absolute path); `salt`, if
# given, is one more fixed parameter (new store paths, so that a test really builds);
# `system` null means builtins.currentSystem (a flake passes its system: pure evaluation).
{ lib, python, salt ? null, system ? null }:
lib.compute {
  name = "sweepgui-lib-example";
  fixedParameters = { a = 1; b = 2; } // (if salt == null then { } else { inherit salt; });
  variableParameters = { c = [ 1 2 3 ]; };
  executable = [ python ./check.py ];
  inherit system;
}
