# Awkward parameter values must reach the executable exactly (tests/nix/test_lib.py):
# values read from tricky.json, floats written as Nix literals, a Nix string with `${`,
# and a zip. check.py writes back the exact text it received.
{ lib, python, salt }:
let
  values = builtins.fromJSON (builtins.readFile ./tricky.json);
in
lib.compute {
  name = "sweepgui-lib-tricky";
  fixedParameters = values.fixed // {
    inherit salt;
    literals = [ 0.1 1.0e-300 (-2.5) 100000.0 1.0e16 (-7) ];
    nixText = "\${not code} $(not a subshell) \"quoted\" back\\slash\nnewline";
  };
  variableParameters = {
    s = values.strings;
    x = [ 0.1 1.0e-300 (-2.5) ];
    pq = lib.zip { p = [ 1 2 ]; q = [ "a'b" "c\"d" ]; };
  };
  executable = [ python ./check.py ];
}
