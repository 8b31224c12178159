#!/bin/sh
# Start or stop libvirt's system daemons (virtlogd, libvirtd) as root on a
# machine without systemd, as the tests and `ballonet --connect
# qemu:///system` need them.
#
#   scripts/libvirt.sh start    install what is missing, start what is not
#                               running, wait until qemu:///system answers
#   scripts/libvirt.sh stop     stop the daemons this script started
#   scripts/libvirt.sh status   exit 0 if qemu:///system answers
#
# Idempotent: a libvirtd that already answers (started by systemd, by hand
# or by an earlier run) is left as it is, and `stop` only stops daemons
# whose pid this script recorded.  Debian's libvirt-daemon-system (which
# would create the user and the directories) pulls in systemd units,
# polkit and a network setup; without it, this script does its part:
# the directories, and the user and group the QEMU driver runs guests as
# by default (libvirt-qemu:libvirt-qemu, compiled into Debian's driver).
#
# Environment: LIBVIRT_WAIT (seconds to wait for libvirtd, default 120:
# at start it probes QEMU's capabilities, slow in TCG on a loaded host).
set -eu
cd "$(dirname "$0")/.."
URI=qemu:///system
STATE=/var/run/libvirt/ballonet-started	# pids this script started
WAIT=${LIBVIRT_WAIT:-120}

say() { echo "libvirt: $*"; }
die() { echo "libvirt: $*" >&2; exit 1; }

answers() {
	command -v virsh >/dev/null 2>&1 &&
		timeout 20 virsh -q -c "$URI" version >/dev/null 2>&1
}

# A live process whose pid is in FILE (a daemon's own pid file).
running() {
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

installed() {
	command -v libvirtd >/dev/null 2>&1 && command -v virtlogd >/dev/null 2>&1 &&
	    command -v virsh >/dev/null 2>&1 &&
	    ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so \
	    >/dev/null 2>&1
}

install() {
	installed || sh scripts/deps.sh
	installed || die "libvirt is not installed (see scripts/deps.sh)"
}

# What libvirt-daemon-system's postinst would have created.
prepare() {
	mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/qemu \
	    /var/cache/libvirt
	getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
	if ! getent passwd libvirt-qemu >/dev/null; then
		extra=""
		getent group kvm >/dev/null && extra="-G kvm"
		# shellcheck disable=SC2086
		useradd -r -g libvirt-qemu $extra -d /var/lib/libvirt \
		    -s /usr/sbin/nologin -c "Libvirt Qemu" libvirt-qemu
	fi
}

start() {
	[ "$(id -u)" -eq 0 ] || die "start: run as root (the system daemons need it)"
	# One start at a time (tests may run in parallel): the others wait,
	# then find libvirtd answering.
	exec 9>/run/ballonet-libvirt.lock
	flock 9
	if answers; then
		say "$URI answers already"
		return 0
	fi
	install
	prepare
	if ! running /run/virtlogd.pid; then
		virtlogd -d 9>&- || die "virtlogd -d failed; see /var/log/libvirt/virtlogd.log"
		echo "virtlogd $(cat /run/virtlogd.pid 2>/dev/null)" >>"$STATE"
	fi
	if ! running /run/libvirtd.pid; then
		libvirtd -d 9>&- || die "libvirtd -d failed; see /var/log/libvirt/libvirtd.log"
		echo "libvirtd $(cat /run/libvirtd.pid 2>/dev/null)" >>"$STATE"
	fi
	i=0
	while ! answers; do
		i=$((i + 1))
		if ! running /run/libvirtd.pid; then
			die "libvirtd exited; see /var/log/libvirt/libvirtd.log"
		fi
		[ "$i" -lt "$WAIT" ] ||
			die "$URI does not answer after $WAIT s; see /var/log/libvirt/libvirtd.log"
		sleep 1
	done
	say "$URI answers: $(virsh -q -c "$URI" version | grep -i 'running hypervisor')"
}

# Stop what start recorded, newest first; nothing else.
stop() {
	[ -s "$STATE" ] || { say "nothing started by this script"; return 0; }
	tac "$STATE" | while read -r name pid; do
		[ -n "$pid" ] || continue
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
			kill -TERM "$pid" && say "stopped $name ($pid)"
		fi
	done
	rm -f "$STATE"
}

case "${1:-}" in
start)	start ;;
stop)	stop ;;
status)	if answers; then say "$URI answers"; else say "$URI does not answer"; exit 1; fi ;;
*)	echo "usage: scripts/libvirt.sh start|stop|status" >&2; exit 1 ;;
esac
