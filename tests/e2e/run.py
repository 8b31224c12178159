#!/usr/bin/env python3
"""Run the end-to-end tests: every test_* function of tests/e2e/test_*.py.

    python3 tests/e2e/run.py [-j N] [-v] [FILTER...]

A test is "MODULE.FUNCTION" (e.g. test_virtio.test_resize_pci); FILTERs are
substrings, a test runs when it contains one of them.  Each test runs in a
child process of its own with a hard timeout (a function attribute
`timeout`, in seconds, or the default); the child's process group is killed
afterwards, so no QEMU survives a test.

Output: one line per test, "ok NAME (S s)" or "FAIL NAME: REASON"; the
output of a failing test is shown above its FAIL line, indented.  The last
line is exactly "N passed, N failed".  Exit status 1 when any failed.
"""

import argparse
import importlib
import inspect
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TIMEOUT = 300
REASON = "@@reason: "


def discover():
    """[(name, function)] in file order, files sorted by name."""
    sys.path.insert(0, HERE)
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        mod = importlib.import_module(fname[:-3])
        funcs = [f for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f)
                 and f.__module__ == mod.__name__]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        tests += [("%s.%s" % (mod.__name__, f.__name__), f) for f in funcs]
    return tests


def run_child(name):
    """In the child: run one test, report the reason of a failure."""
    funcs = dict(discover())
    try:
        funcs[name]()
    except BaseException as e:  # noqa: B902 - report everything
        traceback.print_exc(file=sys.stdout)
        reason = "%s: %s" % (type(e).__name__, e) if str(e) else \
            type(e).__name__
        # A bare assert: name the line that failed.
        frames = traceback.extract_tb(e.__traceback__)
        if frames and not str(e):
            f = frames[-1]
            reason = "%s at %s:%d: %s" % (reason, os.path.basename(
                f.filename), f.lineno, f.line)
        print(REASON + reason.replace("\n", " ")[:300])
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


class Running:
    def __init__(self, name, func):
        self.name = name
        self.timeout = getattr(func, "timeout", DEFAULT_TIMEOUT)
        self.start = time.monotonic()
        self.exclusive = getattr(func, "exclusive", False)
        # A file, not a pipe: a child must never block on its output while
        # we wait for another.
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-u", os.path.abspath(__file__), "--child",
             name], stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.timed_out = False

    def finish(self):
        """Wait for the child (killing it at its timeout); return result."""
        try:
            self.proc.wait(timeout=max(
                1, self.start + self.timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.kill_group()
            self.proc.wait()
        self.kill_group()
        elapsed = time.monotonic() - self.start
        self.out.seek(0)
        text = self.out.read().decode("utf-8", "replace")
        self.out.close()
        reason = None
        lines = []
        for line in text.splitlines():
            if line.startswith(REASON):
                reason = line[len(REASON):]
            else:
                lines.append(line)
        if self.timed_out:
            reason = "killed after the test's timeout of %d s" % self.timeout
        elif self.proc.returncode != 0 and reason is None:
            reason = "exit status %d" % self.proc.returncode
        return reason, lines, elapsed

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def report(name, reason, lines, elapsed, verbose):
    if reason is None:
        if verbose:
            for line in lines:
                print("    " + line)
        print("ok %s (%.1f s)" % (name, elapsed), flush=True)
    else:
        for line in lines:
            print("    " + line)
        print("FAIL %s: %s" % (name, reason), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get("BALLONET_E2E_JOBS", "1")))
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show the output of passing tests too")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()
    if args.child:
        run_child(args.child)
    try:
        tests = discover()
    except Exception:
        traceback.print_exc()
        print("FAIL discovery: cannot import the tests")
        print("0 passed, 1 failed")
        return 1
    if args.filters:
        tests = [t for t in tests if any(f in t[0] for f in args.filters)]
    if args.list:
        for name, _ in tests:
            print(name)
        return 0
    passed = failed = 0
    queue = list(tests)
    running = []
    # Children run in sessions of their own: take them down with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        passed, failed = run_all(queue, running, args)
    except (KeyboardInterrupt, SystemExit):
        for r in running:
            r.kill_group()
        print("run.py: interrupted")
        raise
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run_all(queue, running, args):
    passed = failed = 0
    # Tests marked `exclusive` (big guests) run alone.
    while queue or running:
        while queue and len(running) < max(1, args.jobs):
            name, func = queue[0]
            if running and (getattr(func, "exclusive", False) or
                            any(r.exclusive for r in running)):
                break
            queue.pop(0)
            running.append(Running(name, func))
        # Report in start order: wait for the oldest.
        r = running.pop(0)
        reason, lines, elapsed = r.finish()
        report(r.name, reason, lines, elapsed, args.verbose)
        if reason is None:
            passed += 1
        else:
            failed += 1
    return passed, failed


if __name__ == "__main__":
    sys.exit(main())
