"""make bench still works: bench/run.py once, in its tiny configuration.

A benchmark is not a test: nothing here looks at a time or a rate, only
at whether every guest produced every figure and the files were written.
"""

import csv
import os
import subprocess
import sys
import tempfile

from harness import ROOT

GUESTS = ("ours", "limit", "linux")
# Figures every guest must have, in runs.csv.  CPU times are counted in
# clock ticks: a tiny move may take none, so they may be zero.
METRICS = ("reaction_ms", "inflate_s", "inflate_mibs", "deflate_s",
           "deflate_mibs", "dirty_inflate_s", "dirty_inflate_mibs",
           "dirty_deflate_s", "dirty_deflate_mibs", "reclaim_pct",
           "dirtied_mib", "mem_bytes_per_page")
CPU = ("inflate_cpu_s", "inflate_cpu_ms_mib", "deflate_cpu_s",
       "deflate_cpu_ms_mib", "dirty_inflate_cpu_s", "dirty_inflate_cpu_ms_mib",
       "dirty_deflate_cpu_s", "dirty_deflate_cpu_ms_mib")


def test_bench_tiny():
    """One boot of each guest, 256 -> 128 MiB, fresh and then dirtied: a
    complete table and CSV."""
    with tempfile.TemporaryDirectory(prefix="ballonet-bench-") as out:
        proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, "bench", "run.py"),
             "--config", "tiny", "--out", out],
            cwd=ROOT, capture_output=True, text=True, timeout=1500)
        print(proc.stdout[-4000:], proc.stderr[-4000:])
        assert proc.returncode == 0, proc.returncode
        with open(os.path.join(out, "runs.csv")) as f:
            runs = list(csv.DictReader(f))
        assert sorted(r["guest"] for r in runs) == sorted(GUESTS), runs
        for r in runs:
            for m in METRICS:
                assert r[m] != "" and float(r[m]) > 0, (r["guest"], m, r)
            for m in CPU:
                assert r[m] != "" and float(r[m]) >= 0, (r["guest"], m, r)
        with open(os.path.join(out, "summary.csv")) as f:
            summary = list(csv.DictReader(f))
        assert summary, summary
        for row in summary:
            assert all(row[g] != "" for g in GUESTS), row
        table = open(os.path.join(out, "table.txt")).read()
        assert "\ntiny   inflate 256->128 MiB (MiB/s)" in table, table
        assert "\ntiny   dirty inflate 256->128 MiB (MiB/s)" in table, table
        assert os.path.getsize(os.path.join(out, "bench.png")) > 0


test_bench_tiny.timeout = 1800
