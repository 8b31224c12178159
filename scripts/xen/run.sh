#!/bin/sh
# Boot the Xen test bed, run each argument as a shell command in dom0, exit.
#   scripts/xen/run.sh 'xl info' 'xl list'
# (Builds build/xen/ first when needed; see tests/xen/xenbed.py.)
cd "$(dirname "$0")/../.." && exec python3 tests/xen/xenbed.py "$@"
