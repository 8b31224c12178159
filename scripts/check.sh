#!/bin/bash
# Run every test suite: the cmocka unit tests in build/tests/ (and the
# 32-bit ones in build/tests32/), the fuzz targets in build/fuzz/ on their
# corpora, the freestanding cross builds (scripts/cross.sh), clang-tidy
# (scripts/tidy.sh), then the
# end-to-end tests (tests/e2e/run.py).  The output of every test is shown as
# it runs; the very last line is "N passed, N failed" over all suites.
# Exit status 1 when anything failed (a crashed unit binary counts as one
# failure more than cmocka reported).
#
# Environment: BUILD (default build), PYTHON (default python3),
# E2E_ARGS (extra arguments for run.py, e.g. a filter or -j 2),
# FUZZ_CHECK_SECONDS (fuzzing per target after its corpus, default 3).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
passed=0
failed=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# Counts of one cmocka run, from its summary lines (written to stderr by
# cmocka 1.1.5 and 1.1.7 alike):
#   [  PASSED  ] 3 test(s).
#   [  FAILED  ] 1 test(s), listed below:
# A binary may run several groups, hence the sums.
count() {
	sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test(s).*/\1/p" "$tmp" |
		awk '{ n += $1 } END { print n + 0 }'
}

echo "== unit tests"
nbins=0
# build/tests32: the portable code's tests again as i386 binaries.
for t in "$BUILD"/tests/* "$BUILD"/tests32/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	nbins=$((nbins + 1))
	echo "-- $t"
	CMOCKA_MESSAGE_OUTPUT=STDOUT timeout -k 10 600 "$t" >"$tmp" 2>&1
	rc=$?
	cat "$tmp"
	p=$(count PASSED)
	f=$(count FAILED)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed, sanitizer abort, or no summary at all.
		echo "check: $t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
if [ "$nbins" -eq 0 ]; then
	echo "check: no unit test binaries in $BUILD/tests (run make unit)"
	failed=$((failed + 1))
fi
echo "== unit: $passed passed, $failed failed"

# Each fuzz target replays its corpus (committed inputs and past crashes),
# then fuzzes for FUZZ_CHECK_SECONDS (default 3; 0: replay only).  One
# pass or failure per target.
echo "== fuzz targets"
fuzz_passed=0
fuzz_failed=0
nfuzz=0
new=$(mktemp -d)
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	nfuzz=$((nfuzz + 1))
	name=$(basename "$t")
	echo "-- $name"
	mkdir -p "$new/$name"
	timeout -k 10 300 "$t" -runs=0 -timeout=10 \
	    -artifact_prefix="$new/$name-" "tests/fuzz/corpus/$name" >"$tmp" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ "${FUZZ_CHECK_SECONDS:-3}" -gt 0 ]; then
		timeout -k 10 300 "$t" -max_total_time="${FUZZ_CHECK_SECONDS:-3}" \
		    -timeout=10 -rss_limit_mb=1024 \
		    -artifact_prefix="$BUILD/fuzz/$name-" "$new/$name" \
		    "tests/fuzz/corpus/$name" >>"$tmp" 2>&1
		rc=$?
	fi
	grep -E '(INITED|DONE|ERROR|SUMMARY|^fuzz_|^Done)' "$tmp" | tail -n 6
	if [ "$rc" -eq 0 ]; then
		fuzz_passed=$((fuzz_passed + 1))
	else
		echo "check: $name failed (status $rc); inputs in $BUILD/fuzz/"
		fuzz_failed=$((fuzz_failed + 1))
	fi
done
rm -rf "$new"
if [ "$nfuzz" -eq 0 ]; then
	echo "check: no fuzz targets in $BUILD/fuzz (run make fuzzers)"
	fuzz_failed=1
fi
echo "== fuzz: $fuzz_passed passed, $fuzz_failed failed"
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))

# A suite that prints "N passed, N failed" as its last line.
suite() {
	local title=$1 rc summary
	shift
	echo "== $title"
	"$@" | tee "$tmp"
	rc=${PIPESTATUS[0]}
	summary=$(tail -n 1 "$tmp")
	if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		if [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
			failed=$((failed + 1))
		fi
	else
		echo "check: $title ended without a summary (status $rc)"
		failed=$((failed + 1))
	fi
}

# The portable code freestanding for i386, Cortex-M3 and Cortex-A7.
suite "freestanding builds" bash scripts/cross.sh
# clang-tidy's bugprone and readability checks (.clang-tidy).
suite "clang-tidy over the portable code" bash scripts/tidy.sh

# shellcheck disable=SC2086
suite "end-to-end tests (QEMU)" "$PYTHON" -u tests/e2e/run.py ${E2E_ARGS:-}

# Real Xen 4.17 nested in QEMU (tests/xen/README.md); also `make check-xen`.
suite "Xen test bed" "$PYTHON" -u tests/xen/test_bed.py test_dom0
suite "Xen balloon (our guest as a PVH domU)" \
    "$PYTHON" -u tests/xen/test_xen_balloon.py

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
