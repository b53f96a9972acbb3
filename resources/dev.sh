#!/usr/bin/env bash
# Set up and run sweepgui from a clone: `bash resources/dev.sh app [ARGS]` or `bash resources/dev.sh test [PYTEST ARGS]`.
# Idempotent: creates .venv, installs the Python packages, and installs Nix (Debian's
# nix-bin) and the system libraries Qt and the builder tests need when they are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
what=${1:-}
shift || true

say() { printf '\033[1m[sweepgui]\033[0m %s\n' "$*" >&2; }

apt_install() {
  # install the given Debian packages that are not installed yet
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    say "please install: ${missing[*]} (no apt-get here)"; return 1
  fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system packages: ${missing[*]}"
  if [ ! -f /var/lib/apt/periodic/sweepgui-updated ] ; then
    $sudo apt-get update -qq && $sudo mkdir -p /var/lib/apt/periodic && $sudo touch /var/lib/apt/periodic/sweepgui-updated
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_system() {
  if command -v dpkg >/dev/null; then
    # Qt's xcb/offscreen platform libraries; Nix when there is none; sshd for builder tests
    local pkgs=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
                libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
                libxcb-randr0 libxcb-render-util0 libxcb-image0 libglib2.0-0
                openssh-client)
    command -v nix-build >/dev/null || pkgs+=(nix-bin)
    [ "$what" = test ] && pkgs+=(openssh-server)
    apt_install "${pkgs[@]}"
  elif ! command -v nix-build >/dev/null; then
    say "Nix is missing: install it from https://nixos.org/download"; exit 1
  fi
}

setup_python() {
  local py=${PYTHON:-python3}
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "sweepgui needs Python >= 3.11 ($py is $("$py" --version 2>&1))"; exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    say "creating the virtual environment .venv"
    "$py" -m venv .venv || { apt_install python3-venv && "$py" -m venv .venv; }
  fi
  local stamp=.venv/.sweepgui-installed
  if [ ! -f $stamp ] || [ pyproject.toml -nt $stamp ]; then
    say "installing the Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[test]'
    touch $stamp
  fi
}

case "$what" in
  app)
    setup_system; setup_python
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      say "no display found (DISPLAY is not set): start an X server or run under xvfb-run"; exit 1
    fi
    exec .venv/bin/python -m sweepgui "$@"
    ;;
  test)
    setup_system; setup_python
    export QT_QPA_PLATFORM=offscreen
    # no network here: never wait for binary caches
    export NIX_CONFIG="substituters =
${NIX_CONFIG:-}"
    mkdir -p test-artifacts
    say "checking the import layers"
    .venv/bin/lint-imports
    say "running the test suite"
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash resources/dev.sh app [SWEEP.toml] [--run] | test [PYTEST ARGS]" >&2; exit 2
    ;;
esac
