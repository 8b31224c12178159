#!/bin/bash
# Run each fuzz target (build/fuzz/fuzz_*) for FUZZ_SECONDS (default 60),
# one after the other, starting from its corpus in tests/fuzz/corpus/TARGET.
# Inputs that add coverage are merged into that corpus; crashes are saved
# as build/fuzz/artifacts/TARGET-crash-* and make the script fail.  Copy a
# crash into the corpus once it is fixed: it stays a regression test.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
failed=0
mkdir -p "$BUILD/fuzz/artifacts"
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=tests/fuzz/corpus/$name
	new="$BUILD/fuzz/new/$name"
	mkdir -p "$corpus" "$new"
	echo "== $name: $FUZZ_SECONDS s"
	if ! "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -rss_limit_mb=1024 -print_final_stats=1 \
	    -artifact_prefix="$BUILD/fuzz/artifacts/$name-" \
	    "$new" "$corpus" 2>&1 | grep -E '^(stat::|#[0-9]+ +DONE|==|SUMMARY|fuzz_)'; then
		:
	fi
	if [ "${PIPESTATUS[0]}" -ne 0 ]; then
		echo "fuzz: $name failed; see $BUILD/fuzz/artifacts/"
		failed=$((failed + 1))
	fi
	"$t" -merge=1 "$corpus" "$new" >/dev/null 2>&1
done
echo "fuzz: $failed target(s) failed"
[ "$failed" -eq 0 ]
