#!/bin/bash
# Fuzz each target (build/fuzz/fuzz_*) for FUZZ_SECONDS (default 600), one
# after the other under nice -n 19, starting from its corpus in
# tests/fuzz/corpus/TARGET.
#
# For each target it reports the executions, the coverage (libFuzzer's
# "cov" edges and "ft" features) before and after, the peak RSS, and what
# it kept:
# the inputs that found new coverage are merged into the corpus with
# -merge=1, which adds only those that still add coverage over it, so the
# corpus stays minimal (nothing already there is removed: past crashes and
# hand-written seeds stay).  A crash, leak, timeout or out-of-memory input
# is kept as build/fuzz/artifacts/TARGET-KIND-HASH, reported, and makes the
# script fail; copy it into the corpus once it is fixed, as a regression
# test.  The table is also written to build/fuzz/report.txt.
#
# Environment: BUILD (default build), FUZZ_SECONDS, FUZZ_TARGETS (names to
# run, e.g. "fuzz_sysctl fuzz_qmp"; default all), FUZZ_ARGS (more
# libFuzzer options).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
art=$BUILD/fuzz/artifacts
report=$BUILD/fuzz/report.txt
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p "$art"
failed=0
nrun=0

# The value after KEY ("cov:") on the last line of $log matching PATTERN.
field() {
	grep -E "$1" "$log" | tail -n 1 |
		sed -n "s/.* $2: *\([0-9][0-9]*\).*/\1/p"
}

stat() {
	sed -n "s/^stat::$1: *\([0-9][0-9]*\).*/\1/p" "$log" | tail -n 1
}

corpus_size() {
	printf '%s files, %s bytes' "$(find "$1" -type f | wc -l)" \
	    "$(du -sb --apparent-size "$1" | cut -f1)"
}

printf '%-14s %6s %11s %7s %13s %13s %5s %7s %s\n' target seconds \
    executions exec/s "cov start>end" "ft start>end" kept "rss MiB" \
    "corpus after" >"$report"
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	if [ -n "${FUZZ_TARGETS:-}" ] &&
	    ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		continue
	fi
	nrun=$((nrun + 1))
	corpus=tests/fuzz/corpus/$name
	new=$BUILD/fuzz/new/$name
	rm -rf "$new"
	mkdir -p "$corpus" "$new"
	before=$(find "$corpus" -type f | wc -l)
	echo "== $name: $FUZZ_SECONDS s from $(corpus_size "$corpus")"
	start=$(date +%s)
	# New inputs go to $new (the first directory); the corpus is read.
	# shellcheck disable=SC2086
	nice -n 19 "$t" -max_total_time="$FUZZ_SECONDS" -timeout=20 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$art/$name-" ${FUZZ_ARGS:-} \
	    "$new" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E '^(==[0-9]+==|SUMMARY|fuzz_|artifact_prefix)' "$log" | head -n 20
	execs=$(stat number_of_executed_units)
	rate=$(stat average_exec_per_sec)
	rss=$(stat peak_rss_mb)
	cov0=$(field 'INITED' cov)
	ft0=$(field 'INITED' ft)
	cov1=$(field '^#[0-9]+.* cov: ' cov)
	ft1=$(field '^#[0-9]+.* cov: ' ft)
	# Keep what found something, as far as it still adds coverage.
	nice -n 19 "$t" -merge=1 -timeout=20 -rss_limit_mb=2048 \
	    "$corpus" "$new" >>"$log" 2>&1
	kept=$(($(find "$corpus" -type f | wc -l) - before))
	printf '%-14s %6s %11s %7s %13s %13s %5s %7s %s\n' "$name" "$secs" \
	    "${execs:-?}" "${rate:-?}" "${cov0:-?}>${cov1:-?}" \
	    "${ft0:-?}>${ft1:-?}" "$kept" "${rss:-?}" \
	    "$(corpus_size "$corpus")" | tee -a "$report"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $name failed (status $rc); kept:" | tee -a "$report"
		grep -o "Test unit written to .*" "$log" | tee -a "$report"
		failed=$((failed + 1))
	fi
	rm -rf "$new"
done
if [ "$nrun" -eq 0 ]; then
	echo "fuzz: no fuzz targets in $BUILD/fuzz (run make fuzzers)"
	exit 1
fi
echo "== summary (also in $report)"
cat "$report"
echo "fuzz: $nrun target(s), $failed failed"
[ "$failed" -eq 0 ]
