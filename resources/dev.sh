#!/usr/bin/env bash
# Set up and run sweepgui from a clone: `bash resources/dev.sh app [ARGS]` or `bash resources/dev.sh test [PYTEST ARGS]`.
# Idempotent and quiet once everything is set up: creates .venv, installs the Python packages, and
# installs what is missing with apt: Nix (Debian's nix-bin with nix-setup-systemd: build users,
# /etc/nix/nix.conf, the daemon's units), the system libraries Qt needs and sshd for the builder
# tests. Runs as root, or as a user with sudo. A Nix installed otherwise (the official installer,
# NixOS) is used as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
what=${1:-}
shift || true

say() { printf '\033[1m[sweepgui]\033[0m %s\n' "$*" >&2; }

ME=$(id -un 2>/dev/null || id -u)
is_root() { [ "$(id -u)" -eq 0 ]; }
SUDO_OK=""
can_root() {  # root, or sudo that works (no password needed, or a terminal to ask for it)
  is_root && return 0
  if [ -z "$SUDO_OK" ]; then
    SUDO_OK=no
    command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; } && SUDO_OK=yes
  fi
  [ "$SUDO_OK" = yes ]
}
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
in_group_now() { id -nG | tr ' ' '\n' | grep -qx "$1"; }  # this login's groups, not /etc/group

# Run a command as root: directly, or with sudo. Where neither works, note the command for the
# user (root_todo_stop prints them all) and carry on planning as if it had run.
ROOT_TODO=()
as_root() {
  local env=(env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
             DEBIAN_FRONTEND=noninteractive)
  if is_root; then "${env[@]}" "$@"
  elif can_root; then sudo "${env[@]}" "$@"
  else local q; q=$(printf '%q ' "$@"); ROOT_TODO+=("${q% }"); fi
}
root_todo_stop() {
  [ ${#ROOT_TODO[@]} -eq 0 ] && return 0
  if command -v sudo >/dev/null; then
    say "this needs root, and sudo does not work here without a password: as root, run"
  else
    say "this needs root, and there is no sudo here: as root, run"
  fi
  printf '    %s\n' "${ROOT_TODO[@]}" >&2
  say "then run this command again${1:+ $1}"
  exit 1
}

APT_UPDATED=""
apt_update() {
  [ -n "$APT_UPDATED" ] && return 0
  APT_UPDATED=1
  can_root || { ROOT_TODO+=("apt-get update"); return 0; }
  as_root apt-get update -qq
  as_root mkdir -p /var/lib/apt/periodic
  as_root touch /var/lib/apt/periodic/sweepgui-updated
}
apt_has() {  # whether apt can install the package (it has a candidate version)
  local c
  c=$(LC_ALL=C apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if { [ -z "$c" ] || [ "$c" = "(none)" ]; } && [ -z "$APT_UPDATED" ]; then
    can_root || return 0  # planning only: assume it is there once apt-get update ran
    apt_update
    c=$(LC_ALL=C apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$c" ] && [ "$c" != "(none)" ]
}
apt_install() {
  # install the given Debian packages that are not installed yet
  local missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    say "please install: ${missing[*]} (no apt-get here)"; return 1
  fi
  [ -f /var/lib/apt/periodic/sweepgui-updated ] || apt_update
  if ! can_root; then
    ROOT_TODO+=("apt-get install -y --no-install-recommends ${missing[*]}"); return 0
  fi
  say "installing system packages: ${missing[*]}"
  local opts=(-y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef
              -o Dpkg::Options::=--force-confold)
  if ! as_root apt-get install "${opts[@]}" "${missing[@]}" >/dev/null; then
    [ -z "$APT_UPDATED" ] || return 1
    apt_update  # stale package lists
    as_root apt-get install "${opts[@]}" "${missing[@]}" >/dev/null
  fi
}

# --- Nix --------------------------------------------------------------------------------------
find_nix() {  # the nix-build to use: on PATH, else where the installers and NixOS put it
  local d
  command -v nix-build 2>/dev/null && return 0
  for d in /nix/var/nix/profiles/default/bin /run/current-system/sw/bin "${HOME:-/nonexistent}/.nix-profile/bin"; do
    [ -x "$d/nix-build" ] && { echo "$d/nix-build"; return 0; }
  done
  return 1
}
debian_nix() {  # whether this nix-build is Debian's nix-bin
  [ -e /usr/bin/nix-build ] && installed nix-bin &&
    [ "$(readlink -f "$1")" = "$(readlink -f /usr/bin/nix-build)" ]
}

NIX_PKGS=()           # the Debian packages Nix needs
NIX_SETUP_PENDING=""  # nix-setup-systemd is to be installed (without sudo: planned only)
NIX_BLOCKER=""        # why Nix cannot work for this user yet
nix_system() {
  # which Debian packages Nix needs (NIX_PKGS); a Nix installed otherwise is used as it is
  local nb
  if nb=$(find_nix); then
    case ":$PATH:" in *":$(dirname "$nb"):"*) ;; *) export PATH="$(dirname "$nb"):$PATH" ;; esac
    # Debian's nix-bin alone has no build users and no nix.conf (sandbox on): nothing builds
    debian_nix "$nb" && ! installed nix-setup-systemd && ! getent group nixbld >/dev/null &&
      [ ! -e /etc/nix/nix.conf ] || return 0
  elif ! command -v dpkg >/dev/null; then
    say "Nix is missing: install it from https://nixos.org/download"; exit 1
  else
    NIX_PKGS=(nix-bin)
  fi
  if apt_has nix-setup-systemd; then
    NIX_PKGS+=(nix-setup-systemd); NIX_SETUP_PENDING=1
  else
    say "apt has no nix-setup-systemd here: Nix gets no build users and no /etc/nix/nix.conf;" \
        "as root, put 'build-users-group =' and 'sandbox = false' into /etc/nix/nix.conf"
  fi
}

nix_daemon() {
  # where systemd runs: the daemon's socket (or service) enabled and running. Without systemd
  # (a container, CI) root uses the store directly and needs no daemon.
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null || return 0
  local units
  units=$(systemctl list-unit-files --no-legend nix-daemon.socket nix-daemon.service 2>/dev/null |
          awk '{print $1}')
  [ -n "$units" ] || return 0
  if { systemctl -q is-active nix-daemon.socket || systemctl -q is-active nix-daemon.service; } &&
     { systemctl -q is-enabled nix-daemon.socket || systemctl -q is-enabled nix-daemon.service; } 2>/dev/null; then
    return 0
  fi
  local unit=nix-daemon.socket
  grep -qx nix-daemon.socket <<<"$units" || unit=nix-daemon.service
  say "starting the Nix daemon: systemctl enable --now $unit"
  as_root systemctl enable --now "$unit"
}

nix_user() {
  # a user other than root on a multi-user Nix: in the daemon socket's group, with a daemon
  is_root && return 0
  [ -w /nix/var/nix/db ] && return 0  # a single-user install of this user's own
  local sock=/nix/var/nix/daemon-socket
  if { [ -n "$NIX_SETUP_PENDING" ] || getent group nix-users >/dev/null; } &&
     { [ ! -d $sock ] || [ "$(stat -c %G $sock)" = nix-users ]; } && ! in_group_now nix-users; then
    if ! getent group nix-users | cut -d: -f4 | tr , '\n' | grep -qx "$ME"; then
      can_root && say "adding $ME to the group nix-users (the users who may use the Nix daemon)"
      as_root usermod -a -G nix-users "$ME"
    fi
    NIX_BLOCKER="$ME is now in the group nix-users, but this login is not yet: log out and in again (or run \`newgrp nix-users\`) before Nix works for you, then run this command again"
  elif [ -z "$NIX_SETUP_PENDING" ] && [ ! -S $sock/socket ]; then
    if [ -d /run/systemd/system ]; then
      NIX_BLOCKER="no Nix daemon is listening on $sock/socket: start it as root (systemctl enable --now nix-daemon.socket)"
    else
      NIX_BLOCKER="no Nix daemon runs here (systemd does not run): start one as root (\`sudo nix-daemon --daemon &\`), or run this as root (root uses the Nix store directly)"
    fi
  fi
}

setup_system() {
  local pkgs=() nb
  if command -v dpkg >/dev/null; then
    # Qt's xcb/offscreen platform libraries; sshd for builder tests
    pkgs=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
          libxcb-randr0 libxcb-render-util0 libxcb-image0 libglib2.0-0
          openssh-client)
    [ "$what" = test ] && pkgs+=(openssh-server)
  fi
  nix_system
  pkgs+=(${NIX_PKGS[@]+"${NIX_PKGS[@]}"})
  [ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
  if [ ${#NIX_PKGS[@]} -gt 0 ] && ! command -v nix-build >/dev/null && nb=$(find_nix); then
    export PATH="$(dirname "$nb"):$PATH"
  fi
  [ ${#ROOT_TODO[@]} -gt 0 ] || NIX_SETUP_PENDING=""
  nix_daemon
  nix_user
  root_todo_stop "${NIX_BLOCKER:+(after a new login, for the new group)}"
}

# --- Python -----------------------------------------------------------------------------------
others_can() {
  # whether a user other than the owner (a Nix build user) can reach the file with the mode bits
  # $1 (5 = read and run, 4 = read): every folder on the way, symlinks followed, needs o+x
  local want=$1 f d m
  for f in "$2" "$(readlink -f -- "$2" 2>/dev/null)"; do
    case $f in /*) ;; *) f=$PWD/$f ;; esac
    m=$(stat -L -c %a -- "$f" 2>/dev/null) || return 1
    (( (8#$m & want) == want )) || return 1
    d=$(dirname -- "$f")
    while :; do
      m=$(stat -L -c %a -- "$d" 2>/dev/null) || return 1
      (( 8#$m & 1 )) || { BLOCKED_DIR=$d; return 1; }
      [ "$d" = / ] && break
      d=$(dirname -- "$d")
    done
  done
}
py_exe() {  # the interpreter's real executable
  "$1" -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null
}
py_shared() {  # whether Nix's build users can run the Python $1 (executable and standard library)
  local exe stdlib
  exe=$(py_exe "$1") && [ -n "$exe" ] || return 1
  stdlib=$("$1" -c 'import os; print(os.__file__)' 2>/dev/null) || return 1
  others_can 5 "$exe" && others_can 4 "$stdlib"
}
py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
venv_base() {  # the Python .venv was made from
  local exe
  exe=$(sed -n 's/^executable *= *//p' .venv/pyvenv.cfg 2>/dev/null)
  [ -n "$exe" ] || exe=$(readlink -f .venv/bin/python)
  readlink -f -- "$exe"
}

choose_python() {
  # PY: $PYTHON, else python3, else /usr/bin/python3 when Nix's build users (nixbld*) cannot run
  # python3 (e.g. a pyenv build under /root): they run the venv's Python in every build
  NOTE=""
  if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; return 0; fi
  PY=python3
  if ! { py_ok python3 && py_shared python3; } &&
     [ -x /usr/bin/python3 ] && py_ok /usr/bin/python3 && py_shared /usr/bin/python3; then
    if py_exe python3 >/dev/null; then
      NOTE="using /usr/bin/python3: python3 ($(py_exe python3)) is not readable by other users, such as Nix's build users"
    else
      NOTE="using /usr/bin/python3 (python3 on PATH does not run)"
    fi
    PY=/usr/bin/python3
  fi
}
need_python() {
  py_ok "$PY" || { say "sweepgui needs Python >= 3.11 ($PY is $("$PY" --version 2>&1))"; exit 1; }
}

setup_python() {
  local base
  if [ -e .venv ] && ! .venv/bin/python -c '' 2>/dev/null; then
    say "the virtual environment .venv does not run: recreating it"
    rm -rf .venv
  elif [ -e .venv ]; then
    base=$(venv_base)
    if [ -n "${PYTHON:-}" ]; then
      choose_python; need_python
      if [ "$base" != "$(py_exe "$PY")" ]; then
        say "recreating .venv with PYTHON=$PYTHON (it was made from $base)"
        rm -rf .venv
      fi
    elif ! others_can 5 "$base"; then
      choose_python
      if py_ok "$PY" && py_shared "$PY" && [ "$base" != "$(py_exe "$PY")" ]; then
        say "recreating .venv with $PY: it was made from $base, which other users (Nix's build users) cannot run"
        NOTE=""
        rm -rf .venv
      fi
    fi
  fi
  if [ ! -e .venv ]; then
    [ -n "${PY:-}" ] || choose_python
    need_python
    [ -z "$NOTE" ] || say "$NOTE"
    say "creating the virtual environment .venv"
    if ! "$PY" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      apt_install python3-venv
      root_todo_stop
      "$PY" -m venv .venv
    fi
  fi
  local stamp=.venv/.sweepgui-installed
  if [ ! -f $stamp ] || [ pyproject.toml -nt $stamp ]; then
    say "installing the Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[test]'
    touch $stamp
  fi
  if ! is_root && [ -z "$NIX_BLOCKER" ] && [ ! -w /nix/var/nix/db ]; then
    # under the Nix daemon, the builds run .venv/bin/python as a build user
    BLOCKED_DIR=""
    if ! others_can 5 .venv/bin/python; then
      if [ -n "$BLOCKED_DIR" ]; then
        say "warning: other users cannot enter $BLOCKED_DIR, so Nix's build users cannot run .venv/bin/python and builds will fail: \`chmod o+x $BLOCKED_DIR\` or clone elsewhere"
      else
        say "warning: Nix's build users cannot run .venv/bin/python ($(venv_base)), so builds will fail: set PYTHON= to a Python >= 3.11 that every user can run"
      fi
    fi
  fi
}

case "$what" in
  app)
    setup_system; setup_python
    if [ -n "$NIX_BLOCKER" ]; then say "$NIX_BLOCKER"; exit 1; fi
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      say "no display found (DISPLAY is not set): start an X server or run under xvfb-run"; exit 1
    fi
    exec .venv/bin/python -m sweepgui "$@"
    ;;
  test)
    setup_system; setup_python
    if [ -n "$NIX_BLOCKER" ]; then say "$NIX_BLOCKER"; exit 1; fi
    export QT_QPA_PLATFORM=offscreen
    # no network here: never wait for binary caches
    export NIX_CONFIG="substituters =
${NIX_CONFIG:-}"
    mkdir -p test-artifacts
    say "checking the code: ruff (lint), mypy (types; strict for the core), lint-imports (layers)"
    .venv/bin/ruff check --quiet .
    .venv/bin/mypy
    .venv/bin/lint-imports
    say "running the test suite"
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash resources/dev.sh app [SWEEP.toml] [--run] | test [PYTEST ARGS]" >&2; exit 2
    ;;
esac
