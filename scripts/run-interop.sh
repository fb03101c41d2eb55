#!/usr/bin/env bash
# Interop tests: drive the real switchboard binary with third-party clients
# (websockets, sseclient-py, requests, ...). Build the server first.
#
#   scripts/run-interop.sh [pytest args...]
#
# SWITCHBOARD_BIN: the server binary (default .build/debug/switchboard).
# PYTHON: the interpreter to use (default python3).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
export SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-.build/debug/switchboard}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

req=Tests/interop/requirements.txt
if ! "$PYTHON" -m pip install -q -r "$req"; then
    # An externally managed interpreter (PEP 668) refuses plain installs.
    "$PYTHON" -m pip install -q --break-system-packages -r "$req" || {
        echo "run-interop: could not install $req" >&2
        exit 2
    }
fi

if [ ! -x "$SWITCHBOARD_BIN" ]; then
    echo "run-interop: no server binary at $SWITCHBOARD_BIN (swift build first, or set SWITCHBOARD_BIN)" >&2
fi

"$PYTHON" -m pytest -q Tests/interop "$@"
exit $?
