# sweepgui: one derivation per sweep point, plus one aggregator over the points to build.
#
# Pure builtins (no nixpkgs). Every argument arrives as a string (--argstr). Parameter
# values are never Nix code: each point's parameters are a canonical-JSON *string* read
# from the points file and handed to the builder as a file (passAsFile), so quotes, `${`,
# backslashes, newlines or unicode in a value are just bytes of that file.
#
# A point's inputs are exactly: its own parameters, the model source, the builder script
# and the interpreter (its path, plus the hash of its identity in host mode, or its store
# closure in nixpkgs mode). Nothing about the sweep (index, neighbours, file name) enters
# a point, so equal parameters give equal store paths in every sweep and on every machine.
{ pointsFile                  # JSON: [ { "name": "<store-name-safe>", "params": "<canonical JSON>" }
                              #         or { "batch": "<name>", "points": [ { name, params } ... ] } ]
, modelPath                   # builtin: a directory with sweepgui/{params,model}; custom: the executable
, modelKind ? "builtin"       # "builtin" | "custom"
, modelName ? "sweepgui-model"
, interpreter                 # absolute path of the Python that runs the builder script
, interpreterStorePath ? ""   # portable/nixpkgs mode: the store path the interpreter lives in (a real input)
, interpreterId ? ""          # host mode: hash of the interpreter's identity (version, packages)
, loader ? ""                 # portable mode: the interpreter's own dynamic loader (in its store path)
, libraryPath ? ""            # portable mode: the folder of its shared libraries
, sitePackages ? ""           # portable mode: the folder of the packages the model imports
, system ? builtins.currentSystem
}:
let
  points = builtins.fromJSON (builtins.readFile pointsFile);

  model = builtins.path { path = modelPath; name = modelName; };
  builderScript = builtins.path { path = ./builder.py; name = "sweepgui-builder.py"; };

  # In nixpkgs mode the interpreter string must carry its store path as context, so
  # that Nix knows it as an input (and copies its closure to remote builders).
  inStore = path:
    if interpreterStorePath == "" then path
    else builtins.storePath interpreterStorePath
         + builtins.substring (builtins.stringLength interpreterStorePath)
                              (builtins.stringLength path) path;
  python = inStore interpreter;

  # How a derivation runs Python with `args`: the interpreter itself, or (portable mode)
  # through its own dynamic loader and libraries, so that a builder whose builds see
  # nothing but the store runs it.
  runPython = args:
    if loader == "" then { builder = python; inherit args; }
    else {
      builder = inStore loader;
      args = [ "--library-path" (inStore libraryPath) python ] ++ args;
      inherit loader libraryPath sitePackages;
    };

  # Nix starts the builder with argv[0] = "python" and PATH = /path-not-set; Python then
  # cannot find its own path and a virtual environment goes unnoticed. With the
  # interpreter's folder on PATH it finds itself, hence its environment.
  PATH = dirOf interpreter;

  # What every point's build shares (the model, the interpreter, the environment).
  common = {
    inherit system model modelKind interpreterId PATH;
    hostMode = if interpreterStorePath == "" then "1" else "";
    # without sandbox, root may write into the store: a __pycache__ left in the model's
    # store path corrupts it (hash mismatch: it can no longer be copied to remote builders)
    PYTHONDONTWRITEBYTECODE = "1";
    # one BLAS thread per point: Nix already runs `-j N` points side by side
    OMP_NUM_THREADS = "1";
    OPENBLAS_NUM_THREADS = "1";
    MKL_NUM_THREADS = "1";
  };

  # One point: its own derivation, whose only parameter input is its own JSON.
  mkPoint = p: derivation (common // runPython [ "-S" "-E" builderScript ] // {
    name = "sweepgui-point-" + p.name;
    # -S -E: the builder itself needs only the standard library (~20 ms less per point);
    # it turns the site packages on when it runs the model in its own process
    params = p.params;
    passAsFile = [ "params" ];
  });

  # A group (for fast models): one derivation computing several points, one output
  # (store path) per point. Nix's per-build cost is paid once per group; each point has
  # its own result path, which depends on the whole group: the engine's result index
  # (sweepgui/nix/index.py) maps the point's own out path to it, so that the point is
  # reused alone by any later sweep. A point the model fails on gets error.json in its
  # output; the engine then builds that point's own derivation (never caching a failure).
  mkBatch = b:
    let
      outs = builtins.genList (i: "p${toString i}") (builtins.length b.points);
      d = derivation (common // runPython [ "-S" "-E" builderScript "--batch" ] // {
        name = "sweepgui-batch-" + b.batch;
        outputs = outs;
        # a JSON list of the points' JSON strings (toJSON quotes them: data, never code)
        params = builtins.toJSON (map (p: p.params) b.points);
        passAsFile = [ "params" ];
      });
    in map (o: d.${o}) outs;

  # an entry of the points file is a point { name, params } or a batch { batch, points }
  drvs = builtins.concatLists (map (e: if e ? batch then mkBatch e else [ (mkPoint e) ]) points);

  # Depends on every point given, so that Nix 2.8 reports each point's stop or failure
  # as it happens (it reports top-level derivations only when the whole build ends).
  # Trivial and local: it only records the list of its inputs.
  aggregate = derivation (runPython [ "-S" "-E" builderScript "--aggregate" ] // {
    name = "sweepgui-sweep";
    inherit system PATH;
    points = builtins.concatStringsSep "\n" (map (d: d.outPath) drvs);
    passAsFile = [ "points" ];
    preferLocalBuild = true;
    allowSubstitutes = false;
  });
in
{
  inherit aggregate;
  # [ [drvPath, outPath] ... ] in the order of the points file; evaluate with
  # `nix-instantiate --eval --strict --json` (read-only: no .drv is written).
  paths = map (d: [ d.drvPath d.outPath ]) drvs;
  # what the engine's plan needs in one evaluation: the paths, and the model's store path
  # (for the warm model processes of a run, see modelserver.py)
  plan = { paths = map (d: [ d.drvPath d.outPath ]) drvs; model = "${model}"; };
}
