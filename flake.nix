{
  description = "sweepgui: parameter sweeps of a vibrating-tube densitometer model, every sweep point a Nix derivation";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);

      # The sweep library: pure builtins, no input needed (resources/nix/lib.nix documents it).
      # lib.withPkgs pkgs gives the same functions built with pkgs.runCommand and a store shell.
      sweepLib = import ./resources/nix/lib.nix;

      # Python packages nixos-24.11 does not have (no python3Packages.coolprop, grimp or
      # import-linter): PyPI's wheels for CPython 3.12, their native code patched for the
      # store. Where nixpkgs has one of them, nixpkgs' package is used instead.
      wheels = {
        coolprop = {
          x86_64-linux = {
            url = "https://files.pythonhosted.org/packages/7b/3b/0e6eafefeffec3874f20e3d6be82b2072ca72e2b9b91ea837a6c9b92dfa8/coolprop-6.8.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
            hash = "sha256-uQKuKjjr8ANjG5dlnerNd+lgpC+ris2OKJjFD7gMZGI=";
          };
          aarch64-linux = {
            url = "https://files.pythonhosted.org/packages/32/ef/de06bb29ec4445a8234dc6c4092938042cdc08fe162933589d4b77b9c4e3/coolprop-6.8.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl";
            hash = "sha256-jzPmUAln15cA0Pci0XZE9cJOhiw9Zqzfv2Zl78E+gjk=";
          };
        };
        grimp = {
          x86_64-linux = {
            url = "https://files.pythonhosted.org/packages/d7/e8/12e168379a1cca54e6292f733a661c61d273651017f6cbe465e8ae1c3478/grimp-3.20-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
            hash = "sha256-saKI9FODn5N0eGTEyrXgnfsA8WLkUpSo/Fw2NHVrNcU=";
          };
          aarch64-linux = {
            url = "https://files.pythonhosted.org/packages/b5/85/90fafa8dea17ad7e4dce844b8d631f7f10a6245eac0ffdbcb2026a0c01a3/grimp-3.20-cp312-cp312-manylinux2014_aarch64.manylinux_2_17_aarch64.whl";
            hash = "sha256-Xtj92qnbYn5X2fPMnLaUhUcSzTuJiLQg6sjbOEX33uU=";
          };
        };
        import-linter = {
          url = "https://files.pythonhosted.org/packages/d8/38/137d5310c52c1b79d1588afa2ce5038cb3a10dbfd1a642962f3bc3ccbe61/import_linter-2.1-py3-none-any.whl";
          hash = "sha256-Mk1lA18CUqjkMvYCVrDQ0y2NXW5Pj9KXFmiLCdeiIXo=";
        };
      };

      perSystem = system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          inherit (pkgs) lib;

          # CPython 3.12: the wheels above are built for it
          python = pkgs.python312.override {
            self = python;
            packageOverrides = final: prev:
              let
                fromWheel = { pname, version, url, hash, binary ? false, dependencies ? [ ], imports }:
                  final.buildPythonPackage {
                    inherit pname version dependencies;
                    format = "wheel";
                    src = pkgs.fetchurl { inherit url hash; };
                    nativeBuildInputs = lib.optionals binary [ pkgs.autoPatchelfHook ];
                    buildInputs = lib.optionals binary [ pkgs.stdenv.cc.cc.lib ];
                    pythonImportsCheck = imports;
                    meta = { platforms = systems; }
                      // lib.optionalAttrs binary { sourceProvenance = [ lib.sourceTypes.binaryNativeCode ]; };
                  };
              in
              {
                coolprop = prev.coolprop or (fromWheel ({
                  pname = "coolprop";
                  version = "6.8.0";
                  binary = true;
                  imports = [ "CoolProp.CoolProp" ];
                } // wheels.coolprop.${system}));
                grimp = prev.grimp or (fromWheel ({
                  pname = "grimp";
                  version = "3.20";
                  binary = true;
                  imports = [ "grimp" ];
                } // wheels.grimp.${system}));
                import-linter = prev.import-linter or (fromWheel ({
                  pname = "import-linter";
                  version = "2.1";
                  dependencies = with final; [ click grimp typing-extensions ];
                  imports = [ "importlinter" ];
                } // wheels.import-linter));
              };
          };

          runtimeDeps = ps: with ps; [ numpy scipy pydantic coolprop pyside6 pyqtgraph superqt xarray h5netcdf h5py ];
          testDeps = ps: with ps; [ pytest pytest-qt pytest-timeout hypothesis import-linter ];

          # The Python that runs every sweep point ("nixpkgs" interpreter mode): a store path,
          # so it is an input of every point and remote builders receive it by closure copy.
          modelPython = python.withPackages (ps: with ps; [ numpy scipy pydantic coolprop ]);

          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [ ./pyproject.toml ./README.md ./sweepgui ];
          };
          # sweep.nix, builder.py, the materials, the schema, examples and icons, read at run time
          resources = lib.fileset.toSource {
            root = ./resources;
            fileset = lib.fileset.unions [
              ./resources/nix
              ./resources/examples
              ./resources/icons
              ./resources/materials.toml
              ./resources/parameters.schema.json
            ];
          };

          qtPlugins = lib.concatMapStringsSep ":" (p: "${p}/${pkgs.qt6.qtbase.qtPluginPrefix}") [ pkgs.qt6.qtbase pkgs.qt6.qtwayland ];

          sweepgui = python.pkgs.buildPythonApplication {
            pname = "sweepgui";
            version = (lib.importTOML ./pyproject.toml).project.version;
            pyproject = true;   # format = "pyproject": built from pyproject.toml (setuptools)
            inherit src;
            build-system = with python.pkgs; [ setuptools wheel ];
            dependencies = runtimeDeps python.pkgs;
            # nixpkgs' pyside6 is the whole of PySide6 (the app asks for PySide6-Essentials);
            # the versions are the pinned nixpkgs' own
            pythonRemoveDeps = [ "PySide6-Essentials" ];
            pythonRelaxDeps = true;
            nativeBuildInputs = [ pkgs.qt6.wrapQtAppsHook ];
            buildInputs = [ pkgs.qt6.qtbase pkgs.qt6.qtwayland ];
            dontWrapQtApps = true;
            makeWrapperArgs = [
              # points run with the flake's Python from the store unless the user chose another
              "--set-default" "SWEEPGUI_NIX_PYTHON" "${modelPython}/bin/python3"
              "--set-default" "SWEEPGUI_RESOURCES" "${resources}"
            ];
            preFixup = ''
              makeWrapperArgs+=("''${qtWrapperArgs[@]}")
            '';
            pythonImportsCheck = [ "sweepgui" "sweepgui.model" "sweepgui.nix" "sweepgui.results" ];
            passthru = { inherit python modelPython resources; };
            meta = {
              description = "Parameter sweeps of a vibrating-tube densitometer model, every point a Nix derivation";
              license = lib.licenses.mit;
              mainProgram = "sweepgui";
              platforms = systems;
            };
          };

          testPython = python.withPackages (ps: runtimeDeps ps ++ testDeps ps);

          # lib.compute's example (tests/nix/data/lib-example), built in the sandbox: with
          # pkgs.runCommand (withPkgs) and with pure builtins (/bin/sh of the sandbox)
          exampleWith = sweepLib': import ./tests/nix/data/lib-example/example.nix {
            lib = sweepLib';
            python = "${python}/bin/python3";
            inherit system;
          };
          verifyExample = name: result: pkgs.runCommand name { } ''
            ${python}/bin/python3 ${./tests/nix/data/lib-example/verify.py} ${result}
            touch $out
          '';

          # the Qt-free tests that need neither Nix nor sshd, and the import layers
          unitTests = pkgs.runCommand "sweepgui-unit-tests" {
            nativeBuildInputs = [ testPython ];
            src = lib.fileset.toSource {
              root = ./.;
              fileset = lib.fileset.unions [ ./pyproject.toml ./README.md ./sweepgui ./resources ./tests ];
            };
            QT_QPA_PLATFORM = "offscreen";
            QT_PLUGIN_PATH = qtPlugins;
          } ''
            cp -r "$src"/. . && chmod -R u+w .
            export HOME="$TMPDIR" XDG_CACHE_HOME="$TMPDIR/cache" PYTHONPATH="$PWD"
            lint-imports
            python -m pytest -p no:cacheprovider -q tests/params tests/sweep tests/model -m "not nix and not sshd"
            touch "$out"
          '';
        in
        {
          inherit pkgs sweepgui modelPython testPython unitTests qtPlugins;
          libExample = verifyExample "sweepgui-lib-example" (exampleWith (sweepLib.withPkgs pkgs));
          libExamplePure = verifyExample "sweepgui-lib-example-pure" (exampleWith sweepLib);
        };
    in
    {
      lib = sweepLib;

      packages = forAllSystems (system: let s = perSystem system; in {
        default = s.sweepgui;
        sweepgui = s.sweepgui;
        # the interpreter of the points: SWEEPGUI_NIX_PYTHON=$(nix build --print-out-paths .#model-python)/bin/python3
        model-python = s.modelPython;
      });

      apps = forAllSystems (system: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/sweepgui";
          meta.description = "the sweepgui desktop app, or a CLI subcommand (sweepgui --help)";
        };
      });

      devShells = forAllSystems (system: let s = perSystem system; in {
        default = s.pkgs.mkShell {
          packages = [ s.testPython ];
          shellHook = ''
            export QT_PLUGIN_PATH="${s.qtPlugins}''${QT_PLUGIN_PATH:+:$QT_PLUGIN_PATH}"
            export SWEEPGUI_NIX_PYTHON="''${SWEEPGUI_NIX_PYTHON:-${s.modelPython}/bin/python3}"
          '';
        };
      });

      checks = forAllSystems (system: let s = perSystem system; in {
        package = s.sweepgui;
        lib-example = s.libExample;
        lib-example-pure = s.libExamplePure;
        unit-tests = s.unitTests;
      });
    };
}
