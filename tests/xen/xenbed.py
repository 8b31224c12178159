#!/usr/bin/env python3
"""The Xen test bed: Xen 4.17 with a Linux dom0, nested in QEMU (TCG).

Python 3 standard library only.  The bed is built by scripts/xen/build-dom0.sh
(cached in build/xen/); XenBed() runs that script first, which costs nothing
when the cache is current.

    with XenBed() as bed:                      # boots; waits for dom0's agent
        rc, out = bed.run("xl info")           # a shell command in dom0
        bed.put("build/ballonet-guest.elf")    # -> /mnt/host/ballonet-guest.elf
        bed.create("g1", kernel="/mnt/host/ballonet-guest.elf", memory=256,
                   maxmem=512)                 # xl create, PVH by default
        bed.mem_set("g1", 128)                 # xl mem-set, wait for xl list
        print(bed.console("g1"))               # /var/log/xen/guest-g1.log

How the host talks to dom0:
  - The agent: a virtio-serial port "ballonet.agent" whose QEMU chardev
    connects to a unix socket that XenBed listens on.  dom0's /init runs
    scripts/xen/dom0-agent on it: "@@RUN id n\\n" + n bytes of shell script
    in, the script's output and "\\n@@END id status\\n" out.
  - Two 9p shares (virtio-9p): build/xen read-only on /mnt/bed (Xen, the
    kernel, the sample domU's initramfs), and a per-bed directory of the
    host (XenBed.share, a temporary one unless given) on /mnt/host.
  - The serial port (Xen's console, and dom0's hvc0 through it) goes to a
    file, XenBed.serial_log, shown when something fails.

QEMU always dies with the `with` block, with this process (PDEATHSIG), and
after `lifetime` seconds in any case.

Environment:
    BALLONET_QEMU      QEMU binary (default qemu-system-x86_64)
    BALLONET_XEN_DIR   the bed's files (default build/xen)
    BALLONET_KEEP      keep the bed's temporary directory (logs) when set

Command line, for a look by hand:
    python3 tests/xen/xenbed.py [CMD...]   boot, run each CMD in dom0, exit
"""

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
BUILD_SCRIPT = os.path.join(ROOT, "scripts", "xen", "build-dom0.sh")
BED_DIR = os.environ.get("BALLONET_XEN_DIR",
                         os.path.join(ROOT, "build", "xen"))
QEMU = os.environ.get("BALLONET_QEMU", "qemu-system-x86_64")

# The sample domU's Linux command line.
DOMU_CMDLINE = "console=hvc0 rdinit=/init cryptomgr.notests 8250.nr_uarts=0"

# Where dom0 sees the shares.
DOM0_BED = "/mnt/bed"
DOM0_HOST = "/mnt/host"


class BedError(Exception):
    """The bed failed: QEMU died, dom0 did not answer, a command failed."""


def build(quiet=True):
    """Run scripts/xen/build-dom0.sh (a no-op when the cache is current)."""
    env = dict(os.environ, XENBED_DIR=BED_DIR)
    p = subprocess.run(["bash", BUILD_SCRIPT], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise BedError("build-dom0.sh failed:\n" + text)
    if not quiet:
        sys.stdout.write(text)
    return text


# The QEMU helpers are the end-to-end harness's own.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
from harness import _die_with_parent, wait_until  # noqa: E402,F401


class XenBed:
    """One QEMU running Xen and dom0; a context manager.

    memory: QEMU's RAM in MiB; dom0_mem: dom0's in MiB (also its maximum).
    share: the host directory dom0 sees on /mnt/host (default: a new
    temporary one).  xen_args, dom0_args: extra command-line words.
    lifetime: QEMU is killed after that many seconds whatever happens.
    """

    def __init__(self, memory=3072, smp=2, dom0_mem=1024, share=None,
                 xen_args="", dom0_args="", lifetime=600, boot_timeout=180,
                 do_build=True):
        self.memory, self.smp, self.dom0_mem = memory, smp, dom0_mem
        self.xen_args, self.dom0_args = xen_args, dom0_args
        self.lifetime, self.boot_timeout = lifetime, boot_timeout
        self.do_build = do_build
        self.tmp = tempfile.mkdtemp(prefix="ballonet-xen-")
        self.share = share or os.path.join(self.tmp, "share")
        os.makedirs(self.share, exist_ok=True)
        self.serial_log = os.path.join(self.tmp, "serial.log")
        self.qemu_log = os.path.join(self.tmp, "qemu.log")
        self.proc = None
        self.sock = None
        self.buf = b""
        self.next_id = 1
        self.timings = {}  # phase -> seconds
        self._watchdog = None

    # --- life cycle ---------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None)
        return False

    def qemu_args(self):
        def bed(name):
            path = os.path.join(BED_DIR, name)
            if not os.path.exists(path):
                raise BedError("%s missing: run scripts/xen/build-dom0.sh"
                               % path)
            if "," in path or " " in path:
                raise BedError("QEMU cannot take %r in -initrd" % path)
            return path
        # bootscrub=0: scrubbing 3 GiB in TCG would slow dom0's boot.
        xen_cmd = ("console=com1 com1=115200,8n1 console_timestamps=boot "
                   "bootscrub=0 dom0_mem=%dM,max:%dM dom0_max_vcpus=%d %s" % (self.dom0_mem, self.dom0_mem,
                                             self.smp, self.xen_args))
        # cryptomgr.notests: the crypto self-tests take seconds in TCG.
        dom0_cmd = ("console=hvc0 rdinit=/init cryptomgr.notests %s"
                    % self.dom0_args)
        return [
            QEMU, "-machine", "pc", "-accel", "tcg,thread=multi",
            "-cpu", "qemu64,+svm,+npt,+rdrand", "-m", str(self.memory),
            "-smp", str(self.smp), "-nodefaults", "-display", "none",
            "-no-reboot", "-monitor", "none",
            "-kernel", bed("xen"), "-append", xen_cmd.strip(),
            "-initrd", "%s %s,%s" % (bed("vmlinuz"), dom0_cmd.strip(),
                                     bed("dom0.cpio.gz")),
            "-chardev", "file,id=ser0,path=%s" % self.serial_log,
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci,id=vser0",
            "-chardev", "socket,id=agent,path=%s" % self.agent_path,
            "-device", "virtserialport,bus=vser0.0,chardev=agent,"
                       "name=ballonet.agent",
            "-fsdev", "local,id=bed,path=%s,security_model=none,readonly=on"
                      % BED_DIR,
            "-device", "virtio-9p-pci,fsdev=bed,mount_tag=bed",
            "-fsdev", "local,id=host,path=%s,security_model=none"
                      % self.share,
            "-device", "virtio-9p-pci,fsdev=host,mount_tag=host",
        ]

    def start(self):
        if self.do_build:
            t = time.monotonic()
            build()
            self.timings["build check"] = time.monotonic() - t
        self.agent_path = os.path.join(self.tmp, "agent.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.agent_path)
        listener.listen(1)
        t0 = time.monotonic()
        with open(self.qemu_log, "wb") as log:
            self.proc = subprocess.Popen(
                self.qemu_args(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self._watchdog = threading.Timer(self.lifetime, self._kill)
        self._watchdog.daemon = True
        self._watchdog.start()
        # QEMU connects at once, before the guest runs.
        listener.settimeout(1.0)
        deadline = time.monotonic() + 30
        try:
            while self.sock is None:
                try:
                    self.sock, _ = listener.accept()
                except socket.timeout:
                    self._check_alive()
                    if time.monotonic() > deadline:
                        raise BedError("QEMU never connected to the agent "
                                       "socket")
        finally:
            listener.close()
        self._read_until(re.compile(rb"@@READY\n"), self.boot_timeout,
                         "dom0's agent")
        self.buf = b""
        self.timings["boot"] = time.monotonic() - t0

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def close(self, failed=False):
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            self._kill()
            self.proc.wait()
        if failed:
            print("--- xen bed: last lines of %s" % self.serial_log)
            print(self.serial_tail(60))
            qlog = self._read_file(self.qemu_log)
            if qlog.strip():
                print("--- qemu:\n" + qlog[-2000:])
        if os.environ.get("BALLONET_KEEP") or failed and \
                os.environ.get("BALLONET_KEEP_FAILED"):
            print("xen bed: kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _read_file(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def serial(self):
        """Everything on the serial port so far (Xen's and dom0's console)."""
        return self._read_file(self.serial_log)

    def serial_tail(self, n=40):
        return "\n".join(self.serial().replace("\r", "").splitlines()[-n:])

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise BedError("QEMU exited with status %s" % self.proc.returncode)

    # --- the agent ----------------------------------------------------------

    def _read_until(self, pattern, timeout, what):
        """Read from the agent until pattern matches self.buf; the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.buf)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise BedError("timed out after %.0f s waiting for %s"
                               % (timeout, what))
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                self._check_alive()
                continue
            if not chunk:
                self._check_alive()
                raise BedError("the agent's socket closed")
            self.buf += chunk

    def run(self, script, timeout=120, check=False):
        """Run a shell script in dom0; return (exit status, output).

        Output is stdout and stderr together, decoded as UTF-8.  check=True
        raises BedError on a non-zero status.  The agent kills a script
        still running after `timeout` seconds (status 137: this raises
        BedError too); the bed stays usable.
        """
        if self.sock is None:
            raise BedError("the bed is not running")
        data = script.encode() if isinstance(script, str) else script
        rid = self.next_id
        self.next_id += 1
        timeout = max(1, int(timeout))
        self.sock.sendall(b"@@RUN %d %d %d\n" % (rid, len(data), timeout) +
                          data)
        m = self._read_until(re.compile(rb"\n@@END %d (\d+)\n" % rid),
                             timeout + 30, "the end of %r" % script[:60])
        out = self.buf[:m.start()]
        self.buf = self.buf[m.end():]
        # A restarted agent says @@READY again; that is no output.
        out = re.sub(rb"(^|\n)@@READY\n", rb"\1", out)
        rc = int(m.group(1))
        text = out.decode("utf-8", "replace")
        if rc == 137:
            raise BedError("%r: killed after %d s:\n%s" % (
                script[:80], timeout, text))
        if check and rc != 0:
            raise BedError("%r: exit status %d:\n%s" % (
                script.splitlines()[0][:80] if isinstance(script, str) else
                "(script)", rc, text))
        return rc, text

    def sh(self, script, timeout=120):
        """run() with check=True; return the output only."""
        return self.run(script, timeout=timeout, check=True)[1]

    # --- files --------------------------------------------------------------

    def put(self, path, name=None):
        """Copy a host file into the share; return its path in dom0."""
        name = name or os.path.basename(path)
        shutil.copyfile(path, os.path.join(self.share, name))
        return "%s/%s" % (DOM0_HOST, name)

    def put_bytes(self, data, name):
        """Write bytes (or text) to a file in the share; its dom0 path."""
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(self.share, name), "wb") as f:
            f.write(data)
        return "%s/%s" % (DOM0_HOST, name)

    def write_dom0(self, dom0_path, data):
        """Write bytes into dom0's own file system through the agent (no
        share needed; base64 in the script)."""
        import base64
        if isinstance(data, str):
            data = data.encode()
        b64 = base64.encodebytes(data).decode()
        self.sh("mkdir -p %s && base64 -d > %s <<'@@EOF'\n%s@@EOF\n" % (
            shlex.quote(os.path.dirname(dom0_path) or "/"),
            shlex.quote(dom0_path), b64))

    def bed_path(self, name):
        """dom0's path of a file of build/xen (e.g. 'vmlinuz')."""
        return "%s/%s" % (DOM0_BED, name)

    # --- xl -----------------------------------------------------------------

    def xl_list(self):
        """{name: {"id", "mem" (MiB), "vcpus", "state"}} from `xl list`."""
        out = self.sh("xl list")
        doms = {}
        for line in out.splitlines()[1:]:
            f = line.split()
            if len(f) >= 5 and f[1].isdigit():
                doms[f[0]] = {"id": int(f[1]), "mem": int(f[2]),
                              "vcpus": int(f[3]), "state": f[4]}
        return doms

    def mem(self, domain):
        """A domain's memory in MiB as `xl list` shows it (None: absent)."""
        d = self.xl_list().get(domain)
        return d and d["mem"]

    def mem_set(self, domain, mib, timeout=60, slack=0):
        """`xl mem-set`, then poll `xl list` in dom0 until the domain's size
        is within `slack` MiB of mib.  Returns the seconds this took, as
        measured in dom0 (from mem-set to the xl list that showed it)."""
        # busybox's date has no %N: time with /proc/uptime (10 ms).
        script = (
            "d=%(d)s; t=%(t)d; s=%(s)d\n"
            "t0=$(cut -d' ' -f1 /proc/uptime)\n"
            "xl mem-set \"$d\" %(t)dm || exit 2\n"
            "end=$(( $(date +%%s) + %(to)d ))\n"
            "while :; do\n"
            "  m=$(xl list \"$d\" | awk 'NR == 2 { print $3 }')\n"
            "  [ -n \"$m\" ] && [ $((m - t)) -le $s ] && [ $((t - m)) -le $s ]"
            " && break\n"
            "  [ $(date +%%s) -ge $end ] && { echo \"stuck at $m\"; exit 3; }\n"
            "  sleep 0.2\n"
            "done\n"
            "echo \"@@took $(cut -d' ' -f1 /proc/uptime) $t0\"\n"
        ) % {"d": shlex.quote(domain), "t": mib, "s": slack, "to": timeout}
        out = self.sh(script, timeout=timeout + 30)
        m = re.search(r"@@took ([\d.]+) ([\d.]+)", out)
        return float(m.group(1)) - float(m.group(2))

    def create(self, name, kernel=None, ramdisk=None, cmdline=None,
               memory=256, maxmem=None, type="pvh", vcpus=1, extra="",
               config=None, wait=None, timeout=120):
        """`xl create` a domU; return the seconds xl create took.

        kernel, ramdisk: dom0 paths (default: the bed's Linux, as an ELF,
        and the sample busybox initramfs).  config: a whole xl config instead (text); the
        other arguments are then ignored.  wait: a regular expression to
        wait for on the domU's console (e.g. "ballonet-domu: up").
        """
        if config is None:
            if kernel is None:
                kernel = self.bed_path("vmlinux")
                if ramdisk is None:
                    ramdisk = self.bed_path("domu.cpio.gz")
                if cmdline is None:
                    cmdline = DOMU_CMDLINE
            lines = ['name = "%s"' % name, 'type = "%s"' % type,
                     'kernel = "%s"' % kernel, "memory = %d" % memory,
                     "maxmem = %d" % (maxmem or memory), "vcpus = %d" % vcpus,
                     'on_crash = "preserve"']
            if ramdisk:
                lines.append('ramdisk = "%s"' % ramdisk)
            if cmdline is not None:
                lines.append('cmdline = "%s"' % cmdline)
            config = "\n".join(lines) + "\n" + extra
        path = self.put_bytes(config, "%s.cfg" % name)
        t = time.monotonic()
        self.sh("xl create %s" % shlex.quote(path), timeout=timeout)
        took = time.monotonic() - t
        if wait:
            self.wait_console(name, wait, timeout=timeout)
        return took

    def destroy(self, name):
        self.sh("xl destroy %s" % shlex.quote(name))

    def console(self, name):
        """A domU's console so far (xenconsoled's guest-NAME.log)."""
        rc, out = self.run("cat /var/log/xen/guest-%s.log" % name)
        return out if rc == 0 else ""

    def wait_console(self, name, pattern, timeout=120):
        """Wait until the domU's console matches pattern; the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.console(name)), timeout,
                          interval=0.5,
                          what="%r on %s's console" % (pattern, name))


def main(argv):
    t = time.monotonic()
    print(build(quiet=True).strip().splitlines()[-1])
    print("build check: %.1f s" % (time.monotonic() - t))
    with XenBed() as bed:
        print("dom0 ready after %.1f s; log %s" % (bed.timings["boot"],
                                                    bed.serial_log))
        for cmd in argv or ["xl info", "xl list"]:
            t = time.monotonic()
            rc, out = bed.run(cmd)
            print("$ %s  (status %d, %.2f s)\n%s" % (
                cmd, rc, time.monotonic() - t, out.rstrip()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
