#!/bin/sh
# bench/template/run.sh - renders per second of nm.default.text (1 and 100 alerts), one core.
#
#   bench/template/run.sh [--seconds S] [--check] [--cpu N] [--build DIR]
#
# Builds the template layer in release mode (meson, in DIR, default build-tmplbench) and the
# benchmark with cc against its static libraries, then runs it pinned to CPU N (default 0)
# with taskset when available. Prints a markdown table. --check exits 1 below the target
# (50,000 renders/s of a one-alert group).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=build-tmplbench
cpu=0
args=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --seconds) args="$args --seconds $2"; shift 2 ;;
    --check) args="$args --check"; shift ;;
    *) echo "usage: $0 [--seconds S] [--check] [--cpu N] [--build DIR]" >&2; exit 2 ;;
    esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=release >/dev/null
fi
libs="src/template/libnd_template.a src/config/libnd_config.a src/template/fn/libnd_tmplfn.a
      src/store/libnd_store.a src/util/libnd_util.a"
# shellcheck disable=SC2086
ninja -C "$build" $libs >/dev/null
exe="$build/bench_template"
# shellcheck disable=SC2086,SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -I"$root/include" -o "$exe" "$root/bench/template/bench_template.c" \
    $(for l in $libs; do printf '%s ' "$build/$l"; done) \
    $(pkg-config --libs libpcre2-8 yajl inih) -lm

pin=""
if command -v taskset >/dev/null 2>&1; then
    pin="taskset -c $cpu"
fi
echo "# nm.default.text renders, $(uname -m), $(nproc) CPUs, ${pin:-not pinned}"
# shellcheck disable=SC2086
exec $pin "$exe" $args
