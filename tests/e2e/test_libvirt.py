"""ballonet and ballonetd against a real libvirtd (qemu:///system).

Each test starts libvirtd if it does not answer (scripts/libvirt.sh start:
as root, without systemd) and creates transient domains running our guest
(domain type qemu, i.e. TCG, on q35) with a virtio balloon that reports
statistics every second, and the serial console on a UNIX socket that the
test talks to.

libvirtd, not the test, is QEMU's parent: a test killed at its timeout
would leave its domains running.  So every domain gets a reaper, a shell
in a session of its own that destroys the domain once the test's process
is gone, and every test first destroys domains left by test processes
that no longer exist (their names carry the pid).

No test asserts a duration: each waits for a state, with a generous
timeout.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import BUILD, GUEST, MiB, PAGE, ROOT, Shell, wait_until

URI = "qemu:///system"
BALLONET = os.path.join(BUILD, "ballonet")
PREFIX = "bn-e2e-"          # domain names: PREFIX + pid + "-" + n
MEMORY = 512 * MiB
TIMEOUT = 120               # seconds to wait for any state under TCG

EXIT_OK, EXIT_USAGE, EXIT_NOVM, EXIT_QEMU, EXIT_NOBALLOON, EXIT_TIMEOUT, \
    EXIT_GONE, EXIT_RANGE, EXIT_LOCAL = range(9)

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  {maxmemory}
  <memory unit='KiB'>{kib}</memory>
  <currentMemory unit='KiB'>{kib}</currentMemory>
  <vcpu>1</vcpu>
  {numa}
  {metadata}
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{kernel}</kernel>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <!-- QEMU as root, files left as they are: the guest and the sockets
       live in the test's directories, not in libvirt's. -->
  <seclabel type='static' model='dac' relabel='no'>
    <label>+0:+0</label>
  </seclabel>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='unix'>
      <source mode='bind' path='{serial}'/>
    </serial>
    <memballoon model='virtio' autodeflate='on'>
      <stats period='1'/>
    </memballoon>
    {vmem}
  </devices>
</domain>
"""

# A virtio-mem device of REGION KiB: libvirt wants maxMemory and a NUMA
# node for it.
VMEM_MAXMEMORY = "<maxMemory slots='1' unit='KiB'>{max}</maxMemory>"
VMEM_NUMA = ("<cpu><numa><cell id='0' cpus='0' memory='{kib}' unit='KiB'/>"
             "</numa></cpu>")
VMEM_DEVICE = """<memory model='virtio-mem'>
      <target>
        <size unit='KiB'>{region}</size>
        <node>0</node>
        <block unit='KiB'>2048</block>
        <requested unit='KiB'>0</requested>
      </target>
    </memory>"""


def timeout(seconds):
    """Set the runner's per-test timeout."""
    def mark(func):
        func.timeout = seconds
        return func
    return mark


def virsh(*args, check=True):
    p = subprocess.run(["virsh", "-q", "-c", URI] + list(args),
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("virsh %s: %s" % (" ".join(args),
                                               p.stderr.strip()))
    return p.stdout


def start_libvirtd():
    p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "libvirt.sh"),
                        "start"], capture_output=True, text=True,
                       timeout=600, stdin=subprocess.DEVNULL)
    print(p.stdout + p.stderr, end="")
    assert p.returncode == 0, "scripts/libvirt.sh start failed: %s" % (
        p.stdout + p.stderr).strip()


def reap_stale():
    """Destroy our domains whose test process no longer exists."""
    for name in virsh("list", "--name").split():
        m = re.fullmatch(re.escape(PREFIX) + r"(\d+)-\d+", name)
        if m and not os.path.exists("/proc/" + m.group(1)):
            print("reaping %s, left by a dead test" % name)
            virsh("destroy", name, check=False)


class Domain:
    """A transient domain running our guest; destroyed on exit."""

    count = 0

    def __init__(self, memory=MEMORY, min_guarantee=None, region=0):
        Domain.count += 1
        self.name = "%s%d-%d" % (PREFIX, os.getpid(), Domain.count)
        self.memory = memory
        self.region = region    # bytes of a virtio-mem device, 0 none
        self.min_guarantee = min_guarantee
        self.dir = None
        self.shell = None
        self.reaper = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self):
        if not os.path.exists(GUEST):
            raise AssertionError("no guest kernel at %s (make guest)" % GUEST)
        self.dir = tempfile.mkdtemp(prefix="bnl-", dir="/tmp")
        serial = os.path.join(self.dir, "serial.sock")
        metadata = ""
        if self.min_guarantee is not None:
            metadata = ("<metadata><bn:memory xmlns:bn='urn:x-ballonet:"
                        "libvirt:1'><bn:min_guarantee unit='KiB'>%d"
                        "</bn:min_guarantee></bn:memory></metadata>" %
                        (self.min_guarantee // 1024))
        xml = os.path.join(self.dir, "domain.xml")
        with open(xml, "w") as f:
            kib = self.memory // 1024
            vmem = {"maxmemory": "", "numa": "", "vmem": ""}
            if self.region:
                region = self.region // 1024
                vmem = {"maxmemory": VMEM_MAXMEMORY.format(max=kib + region),
                        "numa": VMEM_NUMA.format(kib=kib),
                        "vmem": VMEM_DEVICE.format(region=region)}
            f.write(DOMAIN_XML.format(name=self.name, kib=kib,
                                      kernel=GUEST, serial=serial,
                                      metadata=metadata, **vmem))
        self.reaper = subprocess.Popen(
            ["sh", "-c", "while kill -0 %d 2>/dev/null; do sleep 2; done; "
             "virsh -q -c %s destroy %s >/dev/null 2>&1" %
             (os.getpid(), URI, self.name)],
            start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        virsh("create", xml)
        self.shell = Shell(serial, timeout=60)
        # The guest runs at once and may have printed its banner before
        # we connected: ask until its shell answers, driver attached.
        wait_until(self.shell_answers, TIMEOUT, 0.5, "the guest's shell")

    def shell_answers(self):
        try:
            out = self.shell.run("sysctl hw.viomb.actual", timeout=5)
        except TimeoutError:
            return False
        return any(line.startswith("hw.viomb.actual = ") for line in out)

    def __exit__(self, exc_type, exc, tb):
        if self.shell is not None:
            if exc is not None:
                print("last serial output of %s:\n%s" % (
                    self.name, self.shell.raw[-2000:].replace("\r\n", "\n")))
            self.shell.close()
        virsh("destroy", self.name, check=False)
        if self.reaper is not None:
            self.reaper.kill()
            self.reaper.wait()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def dommemstat(self):
        """virsh dommemstat as {tag: KiB or count}."""
        stats = {}
        for line in virsh("dommemstat", self.name).splitlines():
            tag, value = line.split()
            stats[tag] = int(value)
        return stats

    def actual(self):
        """The logical size libvirt reports, in bytes."""
        return self.dommemstat()["actual"] * 1024

    def balloon_pages(self):
        return self.shell.sysctl("hw.viomb.actual")


def ballonet(*args, timeout=TIMEOUT + 60):
    """Run ballonet --connect URI ARGS; return (status, stdout, stderr)."""
    cmd = [BALLONET, "--connect", URI] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    print("$ %s -> %d\n%s%s" % (" ".join(cmd[1:]), p.returncode, p.stdout,
                               p.stderr))
    return p.returncode, p.stdout, p.stderr


def ok(*args, **kw):
    rc, out, err = ballonet(*args, **kw)
    assert rc == EXIT_OK, "ballonet %s: exit %d: %s" % (args, rc, err)
    return out


def one_line_error(err, code, rc, *words):
    assert rc == code, "exit %d, not %d: %r" % (rc, code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ballonet: "), err
    for w in words:
        assert w in lines[0], "%r not in %r" % (w, lines[0])


def info(name):
    return json.loads(ok("info", name, "--json"))


@timeout(600)
def test_set_info_stats():
    start_libvirtd()
    reap_stale()
    with Domain() as a, Domain() as b:
        # set reaches the size; the other domain stays as it is.
        out = ok("set", a.name, "300M", "--wait", "--timeout", TIMEOUT)
        assert "reached 300 MiB" in out, out
        assert a.actual() == 300 * MiB
        assert a.balloon_pages() == 212 * MiB // PAGE
        assert b.actual() == MEMORY and b.balloon_pages() == 0
        ok("set", b.name, "400M", "--wait", "--timeout", TIMEOUT)
        assert b.balloon_pages() == 112 * MiB // PAGE

        # info: what libvirt says, in bytes.
        i = info(a.name)
        assert i["name"] == a.name and i["uri"] == URI, i
        assert i["ram"] == MEMORY and i["actual"] == 300 * MiB, i
        assert i["balloon"] == 212 * MiB and i["target"] is None, i
        assert i["rss"] > 0 and i["min_guarantee"] is None, i
        # The guest's free memory follows the balloon (stats every 1 s).
        wait_until(lambda: info(a.name)["unused"] is not None and
                   info(a.name)["unused"] <= 300 * MiB, TIMEOUT,
                   1, "unused <= actual")
        text = ok("info", a.name)
        assert re.search(r"^actual: +300 MiB$", text, re.M), text
        assert re.search(r"^RAM: +512 MiB$", text, re.M), text

        # stats: a fresh report from the guest (within the interval: wait
        # for one from after the balloon filled).
        def stats():
            s = json.loads(ok("stats", b.name, "--json", "--interval", 1))
            return s if s["stat-free-memory"] <= 400 * MiB else None
        s = wait_until(stats, TIMEOUT, 1, "free memory <= 400 MiB")
        # The guest's total is its RAM less what firmware and the kernel
        # took; with deflate-on-oom, ballooned pages stay counted in it.
        assert 480 * MiB < s["stat-total-memory"] <= MEMORY, s
        assert 0 < s["stat-free-memory"] <= 400 * MiB, s
        assert s["last-update"] > 0, s
        text = ok("stats", b.name)
        assert re.search(r"^free memory +\d+\.\d MiB$", text, re.M), text

        # And back up, by UUID this time, watched from libvirt's events.
        watch = subprocess.Popen(
            [BALLONET, "--connect", URI, "watch", a.name, "--json",
             "--count", "1", "--timeout", str(TIMEOUT)], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        uuid = virsh("domuuid", a.name).strip()
        ok("set", uuid, "512M", "--wait", "--timeout", TIMEOUT)
        # The watch may have subscribed after that change: more, until
        # it saw one.
        sizes = ["480M", "512M"]
        for i in range(20):
            if watch.poll() is not None:
                break
            ok("set", uuid, sizes[i % 2], "--wait", "--timeout", TIMEOUT)
        ok("set", uuid, "512M", "--wait", "--timeout", TIMEOUT)
        assert a.actual() == MEMORY and a.balloon_pages() == 0
        out, err = watch.communicate(timeout=TIMEOUT + 30)
        print("watch:", out, err)
        assert watch.returncode == EXIT_OK and err == "", err
        change = json.loads(out)
        assert 300 * MiB < change["actual"] <= MEMORY, change

        # Clean one-line errors, nothing changed.
        rc, _, err = ballonet("set", a.name, "513M")
        one_line_error(err, EXIT_RANGE, rc, a.name, "512 MiB")
        rc, _, err = ballonet("set", a.name, "0")
        one_line_error(err, EXIT_RANGE, rc)
        assert a.actual() == MEMORY
    # Domains gone: no such VM, in one line.
    for verb in (["set", a.name, "300M"], ["info", a.name],
                 ["stats", a.name]):
        rc, _, err = ballonet(*verb)
        one_line_error(err, EXIT_NOVM, rc, a.name, "no such domain")
    rc, _, err = ballonet("info", "no-such-domain", "--json")
    one_line_error(err, EXIT_NOVM, rc, "no-such-domain")


def vmem_sizes(dom):
    """QEMU's virtio-mem device behind libvirt: (requested, plugged)."""
    out = virsh("qemu-monitor-command", dom.name,
                '{"execute":"query-memory-devices"}')
    for dev in json.loads(out)["return"]:
        if dev["type"] == "virtio-mem":
            return dev["data"]["requested-size"], dev["data"]["size"]
    raise AssertionError("no virtio-mem device: %s" % out)


@timeout(600)
def test_set_through_virtio_mem():
    """A domain with 512 MiB of RAM and a 1 GiB virtio-mem device: set
    above the RAM plugs memory through libvirt (virDomainUpdateDeviceFlags
    on the device's <requested>), the guest uses more than it booted
    with, and info shows one logical size; back at or below the RAM all
    is unplugged and the balloon does the rest."""
    start_libvirtd()
    reap_stale()
    with Domain(region=1024 * MiB) as a:
        i = info(a.name)
        assert (i["ram"], i["boot"], i["plugged"]) == \
            (MEMORY + 1024 * MiB, MEMORY, 0), i
        out = ok("set", a.name, "1200M", "--wait", "--timeout", TIMEOUT)
        assert "reached 1200 MiB" in out, out
        assert vmem_sizes(a) == (688 * MiB, 688 * MiB)
        assert a.actual() == MEMORY       # the balloon's part: empty
        i = info(a.name)
        assert (i["actual"], i["plugged"], i["balloon"]) == \
            (1200 * MiB, 688 * MiB, 0), i
        wait_until(lambda: a.shell.sysctl("hw.balloon.hotplugged") ==
                   688 * 1024, TIMEOUT, 0.5, "hotplugged == 688 MiB")
        out = a.shell.run("mem touch 1000M", timeout=TIMEOUT)
        assert any("touched 256000 pages" in line for line in out), out
        out = a.shell.run("mem free", timeout=TIMEOUT)
        assert any("freed 256000 pages" in line for line in out), out
        ok("set", a.name, "300M", "--wait", "--timeout", TIMEOUT)
        assert vmem_sizes(a) == (0, 0)
        assert a.actual() == 300 * MiB
        i = info(a.name)
        assert (i["actual"], i["plugged"], i["balloon"]) == \
            (300 * MiB, 0, 212 * MiB), i
        rc, _, err = ballonet("set", a.name, "1537M")
        one_line_error(err, EXIT_RANGE, rc, "above what the domain can "
                       "reach", "1536 MiB")


@timeout(120)
def test_connect_errors():
    # A URI nobody serves, and a verb that libvirt does not have.
    p = subprocess.run([BALLONET, "--connect",
                        "qemu+unix:///system?socket=/nonexistent", "info",
                        "x"], capture_output=True, text=True, timeout=60)
    print(p.stderr)
    one_line_error(p.stderr, EXIT_NOVM, p.returncode, "cannot connect")
    p = subprocess.run([BALLONET, "--connect", URI, "vm", "list"],
                       capture_output=True, text=True, timeout=60)
    print(p.stderr)
    one_line_error(p.stderr, EXIT_USAGE, p.returncode, "--connect")


BALLONETD = os.path.join(BUILD, "ballonetd")
BUDGET = 512 * MiB


class Daemon:
    """ballonetd --connect URI in the foreground; stopped on exit."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="bnd-", dir="/tmp")
        self.log_path = os.path.join(self.dir, "ballonetd.log")
        self.args = [BALLONETD, "--connect", URI, "--foreground",
                     "--socket", os.path.join(self.dir, "ballonetd.sock")] + \
            [str(a) for a in args]
        self.proc = None

    def __enter__(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, BALLONET_RUNDIR=self.dir))
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __exit__(self, exc_type, exc, tb):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        print("ballonetd exited with %s; its log:\n%s" % (
            self.proc.returncode, self.log()))
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


@timeout(900)
def test_daemon_balances_two_domains():
    """ballonetd moves memory from an idle domain to a busy one.

    Two 512 MiB domains under a budget of 512 MiB; b is guaranteed 192 MiB
    by our <metadata> element.  b is busy first (it holds 200 MiB), a
    idle: the daemon takes a's idle memory.  Then b frees its memory and
    a touches 200 MiB: a gets memory, b gives it back down to its
    guarantee and never below.
    """
    start_libvirtd()
    reap_stale()
    with Domain() as a, Domain(min_guarantee=192 * MiB) as b:
        b.shell.run("mem touch 200M", timeout=TIMEOUT)
        with Daemon("--budget", "%dM" % (BUDGET // MiB),
                    "--interval", 1) as d:
            lows = []

            def settled(want_a, want_b):
                sa, sb = a.actual(), b.actual()
                lows.append(sb)
                assert d.proc.poll() is None, "ballonetd exited"
                return want_a(sa) and want_b(sb) and sa + sb <= BUDGET

            wait_until(lambda: settled(lambda x: x <= 200 * MiB,
                                       lambda x: x >= 200 * MiB),
                       TIMEOUT * 2, 1, "a shrunk, b kept its 200 MiB")
            b.shell.run("mem free", timeout=TIMEOUT)
            out = a.shell.run("mem touch 200M", timeout=TIMEOUT)
            assert "touched 51200 pages" in " ".join(out), out
            wait_until(lambda: settled(lambda x: x >= 232 * MiB,
                                       lambda x: x < 232 * MiB),
                       TIMEOUT * 2, 1, "a grown, b shrunk")
            assert min(lows) >= 192 * MiB, \
                "b went below its guarantee: %d MiB" % (min(lows) // MiB)
            log = d.log()
            for name in (a.name, b.name):
                assert re.search(r"%s: target \d+ MiB -> \d+ MiB" %
                                 re.escape(name), log), log
