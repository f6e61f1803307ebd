#!/bin/bash
# tests/fuzz/run.sh [SECONDS] - builds the libFuzzer targets of tests/fuzz with clang, ASan and
# UBSan in their own build dir, then runs each for SECONDS (default 30) of fuzzing. Prints one
# TAP line per target; exits 0 when no target found anything. docs/fuzzing.md has the details.
#
# Environment:
#   FUZZ_BUILD_DIR  the build dir (default build-fuzz in the source root); kept between runs,
#                   with the corpus each target grew (FUZZ_BUILD_DIR/fuzz-corpus/TARGET) and
#                   what it found (FUZZ_BUILD_DIR/fuzz-artifacts/TARGET/crash-..., leak-...,
#                   timeout-...)
#   FUZZ_TARGETS    the targets to run, blank-separated (default: all five)
#   FUZZ_JOBS       ninja -j (default 2)
#   CC              the compiler (default clang; libFuzzer needs clang)
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
case $build in /*) ;; *) build=$PWD/$build ;; esac
targets=${FUZZ_TARGETS:-"ingest_json http config nmspec template selector wal"}
jobs=${FUZZ_JOBS:-2}
export CC=${CC:-clang}

if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS]   (seconds of fuzzing per target, default 30)" >&2
    exit 2
fi

# Extra seed directories of a target (read only: what the fuzzer finds goes to its own corpus).
extra_seeds() {
    case $1 in
    template) echo "$root/tests/template/cases" ;;
    esac
}

echo "# building the fuzz targets in $build ($CC, ASan+UBSan)"
if [ -f "$build/meson-private/coredata.dat" ]; then
    meson configure "$build" -Dfuzz=true -Dman=false >/dev/null || exit 1
else
    # -Dman=false: the man page is not what is fuzzed; this build needs no scdoc.
    meson setup "$build" "$root" -Dfuzz=true -Dman=false -Dwerror=true \
        -Db_sanitize=address,undefined -Db_lundef=false >"$build.setup.log" 2>&1 || {
        cat "$build.setup.log"
        echo "Bail out! meson setup failed (libFuzzer needs clang and libclang-rt-14-dev)"
        exit 1
    }
    rm -f "$build.setup.log"
fi
ninja_targets=()
for t in $targets; do
    ninja_targets+=("tests/fuzz/fuzz_$t")
done
if ! ninja -C "$build" -j "$jobs" "${ninja_targets[@]}" >"$build/fuzz-build.log" 2>&1; then
    tail -n 40 "$build/fuzz-build.log"
    echo "Bail out! the fuzz targets do not build (log: $build/fuzz-build.log)"
    exit 1
fi

# UB is a finding, not a note: halt so that libFuzzer saves the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
unset ASAN_OPTIONS # libFuzzer's own defaults (leak checks on, it reports and saves)

set -- $targets
echo "1..$#"
n=0
failed=0
for t in $targets; do
    n=$((n + 1))
    corpus=$build/fuzz-corpus/$t
    artifacts=$build/fuzz-artifacts/$t
    rundir=$build/fuzz-run/$t # empty: the config target's relative paths find nothing
    mkdir -p "$corpus" "$artifacts" "$rundir"
    log=$build/fuzz-$t.log
    seeds=("$root/tests/fuzz/$t")
    for d in $(extra_seeds "$t"); do
        seeds+=("$d")
    done
    dict=()
    [ -f "$root/tests/fuzz/$t.dict" ] && dict=("-dict=$root/tests/fuzz/$t.dict")
    before=$(find "$artifacts" -type f | wc -l)
    (cd "$rundir" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
        "$corpus" "${seeds[@]}" </dev/null >"$log" 2>&1)
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" = 0 ] && [ "$(find "$artifacts" -type f | wc -l)" = "$before" ]; then
        echo "ok $n - $t: ${runs:-?} inputs in ${secs}s, nothing found"
    else
        failed=1
        found=$(ls -t "$artifacts" 2>/dev/null | head -n 1)
        echo "not ok $n - $t: libFuzzer exit $rc${found:+, input saved as $artifacts/$found}"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|fuzz check failed)|runtime error" "$log" | head -n 5 |
            sed 's/^/# /'
        echo "# log: $log"
        if [ -n "$found" ]; then
            echo "# reproduce: $build/tests/fuzz/fuzz_$t $artifacts/$found"
            if [ "$t" = template ]; then
                echo "# once fixed, keep it: cp $artifacts/$found" \
                    "$root/tests/fuzz/template/<what-it-was>.tmpl and add Go's .out or .err" \
                    "(tests/fuzz/template/README.md)"
            else
                echo "# once fixed, keep it: cp $artifacts/$found $root/tests/fuzz/$t/<what-it-was>"
            fi
        fi
    fi
done
exit $failed
