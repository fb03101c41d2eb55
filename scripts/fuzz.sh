#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (a separate package; its build folder is Fuzz/.build) and runs
# each one for a fixed time, starting from a temporary copy of its seed corpus in Fuzz/Corpus/<target>/.
# Exits non-zero if the build fails or any target finds a crash, a timeout or an out-of-memory input;
# those inputs are kept in Fuzz/Findings/<target>/ (git-ignored). See docs/testing.md, "Fuzzing".
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]   SECONDS per target (default 20); all targets by default
#
# FUZZ_NICE=N runs the fuzzers under `nice -n N`; FUZZ_ARGS adds libFuzzer options (e.g. -jobs=2).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
all_targets=(FuzzJSON FuzzClientCommand FuzzCursor FuzzEventDraft FuzzInbound FuzzWebSocketFrame)
targets=("${all_targets[@]}")
if [ $# -gt 0 ]; then targets=("$@"); fi

# Pin the fuzz package to the main package's dependency versions when it has none of its own yet.
if [ ! -f Fuzz/Package.resolved ] && [ -f Package.resolved ]; then
    cp Package.resolved Fuzz/Package.resolved
fi

# Release, instrumented for libFuzzer; -enable-testing for the `@testable import` of SwitchboardServer.
build=(swift build --package-path Fuzz -c release --sanitize=fuzzer -Xswiftc -enable-testing)
mkdir -p Fuzz/.build
echo "building the fuzz targets: ${build[*]}"
"${build[@]}" > Fuzz/.build/fuzz-build.log 2>&1
build_status=$?
tail -n 2 Fuzz/.build/fuzz-build.log
if [ "$build_status" -ne 0 ]; then
    echo "the fuzz build failed; its errors:"
    grep -E -A 3 'error:|fatal|Killed' Fuzz/.build/fuzz-build.log | head -n 60
    exit "$build_status"
fi
bin_dir=$("${build[@]}" --show-bin-path)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
    corpus="$work/$target"
    findings="Fuzz/Findings/$target"
    mkdir -p "$corpus" "$findings"
    cp Fuzz/Corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    # SWIFT_BACKTRACE=enable=no lets libFuzzer's own handler catch a trap and save the input.
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=enable=no nice -n "${FUZZ_NICE:-0}" "$bin_dir/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 \
        -artifact_prefix="$findings/" ${FUZZ_ARGS:-} "$corpus" > "$work/$target.log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$' | tail -n 1)
    coverage=$(grep -E '^#[0-9]+' "$work/$target.log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1)
    printf '%-20s exit %-3s %s executions, %s, corpus %s files\n' \
        "$target" "$status" "${runs:-?}" "${coverage:-no coverage line}" "$(ls "$corpus" | wc -l)"
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        grep -E -A 30 'ERROR: libFuzzer|Fatal error|SUMMARY' "$work/$target.log" | head -n 50
        grep -E 'Test unit written to' "$work/$target.log"
        cp "$work/$target.log" "$findings/"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]} (inputs and logs in Fuzz/Findings/)"
    exit 1
fi
echo "fuzzing: no crash in ${#targets[@]} targets, ${seconds} s each"
