#!/bin/bash
# Build the portable code (engine/, virtio/, xen/) freestanding for each
# of the Makefile's CROSS_ARCHS (i386, Cortex-M3, Cortex-A7) with -Wall
# -Wextra -Werror, link it into one relocatable object, and check what it
# still needs from outside: the port (bn_port_*, include/ballonet/port.h),
# the four functions every freestanding C target provides (memset, memcpy,
# memmove, memcmp), and the compiler's runtime library (libgcc's __*
# helpers, e.g. 64-bit division on 32-bit CPUs).  Anything else, a libc
# function for one, is a failure.  One pass or failure per architecture;
# the last line is "N passed, N failed".
#
# Environment: BUILD (default build), MAKE (default make).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for arch in i386 cortex-m3 cortex-a7; do
	obj=$BUILD/cross/$arch/ballonet.o
	case $arch in
	i386)	tools= ;;
	*)	tools=arm-none-eabi- ;;
	esac
	if ! "$MAKE" --no-print-directory BUILD="$BUILD" "cross-$arch" \
	    >"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -n 20
		echo "cross: $arch: FAIL: does not build"
		failed=$((failed + 1))
		continue
	fi
	needs=$("${tools}nm" -u "$obj" | awk '{ print $NF }' | sort -u)
	bad=$(echo "$needs" | grep -Ev '^(bn_port_[a-z0-9_]+|memset|memcpy|memmove|memcmp|__[A-Za-z0-9_]+)$' |
		tr '\n' ' ')
	helpers=$(echo "$needs" | grep -E '^__' | tr '\n' ' ')
	sizes=$("${tools}size" "$obj" | awk 'NR == 2 {
		printf "text %d, data %d, bss %d bytes", $1, $2, $3 }')
	if [ -n "$bad" ]; then
		echo "cross: $arch: FAIL: needs $bad"
		failed=$((failed + 1))
		continue
	fi
	echo "cross: $arch: ok ($sizes; from the compiler: $helpers)"
	passed=$((passed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
