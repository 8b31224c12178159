#!/bin/bash
# clang-tidy (Debian's clang-tidy 14) over the portable code: every .c of
# engine/, virtio/ and xen/, and the headers they include, with the checks
# of .clang-tidy (bugprone-* and readability-*, the few that are off named
# and explained there).  The code is compiled as it is for a small OS:
# C11, freestanding, no libc headers.  One pass or failure per file; the
# last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
TIDY=${TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy)}
passed=0
failed=0
if [ -z "$TIDY" ]; then
	echo "tidy: clang-tidy not found (scripts/deps.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
inc=$(clang -print-resource-dir)/include
for f in engine/*.c virtio/*.c xen/*.c; do
	if out=$("$TIDY" --quiet "$f" -- -std=c11 -ffreestanding -nostdinc \
	    -isystem "$inc" -Iinclude -Ivirtio -Ixen 2>&1); then
		passed=$((passed + 1))
	else
		echo "$out" | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated'
		echo "tidy: $f: FAIL"
		failed=$((failed + 1))
	fi
done
echo "tidy: $passed file(s) clean with $(basename "$TIDY")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
