# A stand-in for the three things lib.withPkgs takes from nixpkgs (tests only: nixpkgs
# cannot be fetched offline): runCommand NAME ENV SCRIPT runs SCRIPT with ENV's attributes
# in the environment (passAsFile included), like nixpkgs' runCommand, here with /bin/sh
# and the host's /usr/bin instead of stdenv.
{
  runtimeShell = "/bin/sh";
  stdenv.hostPlatform.system = builtins.currentSystem;
  runCommand = name: env: buildCommand:
    derivation (env // {
      inherit name buildCommand;
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [ "-c" "PATH=/usr/bin:/bin; eval \"$buildCommand\"" ];
    });
}
