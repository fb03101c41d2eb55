#!/usr/bin/env bash
# Builds and runs the Swift test suites under a sanitizer: `scripts/sanitize.sh thread` or
# `scripts/sanitize.sh address`. Each sanitizer builds into its own folder (.build-tsan,
# .build-asan), so the ordinary debug build is left alone; a cold build takes about as long as
# the debug one. Any report fails the run. Extra arguments go to `swift test` (e.g. --filter Hub).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer="${1:?usage: scripts/sanitize.sh thread|address [swift test arguments]}"
shift
case "$sanitizer" in
thread)
    build=.build-tsan
    export TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$PWD/scripts/tsan-suppressions.txt ${TSAN_OPTIONS:-}"
    ;;
address)
    build=.build-asan
    # Swift keeps type metadata and singletons for the life of the process; leak checking reports them.
    export ASAN_OPTIONS="halt_on_error=1 detect_leaks=0 ${ASAN_OPTIONS:-}"
    ;;
*)
    echo "unknown sanitizer: $sanitizer (thread or address)" >&2
    exit 2
    ;;
esac
swift build --build-tests --sanitize="$sanitizer" --build-path "$build"
swift test --skip-build --sanitize="$sanitizer" --build-path "$build" "$@"
