#!/usr/bin/env bash
# Counts the allocations of the hot paths (Benchmarks/HotPaths: encode an event, fan it out, parse a
# client command and a publish body, sign a webhook, append a batch) with ordo-one/benchmark's malloc
# counters, and fails when one is above its threshold in Benchmarks/Thresholds/. See
# docs/benchmarks.md, "Numbers that cannot regress".
#
#   scripts/hotpath-counts.sh           check against the thresholds (the test command runs this)
#   scripts/hotpath-counts.sh update    write the thresholds anew from this build (review the diff)
#
# The benchmark package builds in the main package's build folder, which already holds every
# dependency compiled the same way, so only the benchmark targets compile. The test command checks
# the debug build's counts (a release build of the stack would add a quarter of an hour to it);
# BENCH_CONFIGURATION=release checks the release counts, against their own thresholds.
set -uo pipefail
cd "$(dirname "$0")/.."

configuration=${BENCH_CONFIGURATION:-debug}
mode=${1:-check}
thresholds="Benchmarks/Thresholds/$configuration.json"

# Pin the benchmark package to the main package's dependency versions when it has none of its own yet.
if [ ! -f Benchmarks/Package.resolved ] && [ -f Package.resolved ]; then
    cp Package.resolved Benchmarks/Package.resolved
fi

build=(swift build --package-path Benchmarks --scratch-path .build -c "$configuration" --product HotPaths)
mkdir -p .build
# The two packages share the build folder but not its build plan (`<configuration>.yaml`): a plan left by
# the other package can name targets this one lacks ("No target named … in build description") or keep
# the next main build from relinking. Dropping it before and after makes each build plan afresh.
rm -f ".build/$configuration.yaml"
"${build[@]}" > .build/hotpaths-build.log 2>&1
build_status=$?
tail -n 1 .build/hotpaths-build.log
if [ "$build_status" -ne 0 ]; then
    echo "the benchmark build failed; its errors:"
    grep -E -A 3 'error:|fatal|Killed' .build/hotpaths-build.log | head -n 60
    exit "$build_status"
fi
executable="$("${build[@]}" --show-bin-path)/HotPaths"
rm -f ".build/$configuration.yaml"
exec python3 scripts/hotpath_counts.py "$mode" "$executable" "$thresholds"
