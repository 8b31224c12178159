# ballonet: memory ballooning for virtual machines.
#
#   make          build the reference guest, the host tool and the unit tests
#   make daemon   build/ballonetd, the policy daemon (daemon/)
#   make check    install what is missing, run every test suite
#   make fuzz     fuzz each target FUZZ_SECONDS (600), keep what it found
#   make cross    the portable code freestanding for i386 and 32-bit Arm
#   make demo     install what is missing, boot a guest, balloon it down and up
#   make bench    ours against Linux's virtio_balloon and virtio_mem:
#                 bench/results/ (slow)
#   make bench-policy  ballonetd's policies on one workload: bench/results/policy.*
#
# Layout: engine/ (portable engine), virtio/ (virtio front-end and transports),
# xen/ (Xen front-end and xenstore client), guest/ (the reference guest
# kernel: a port like any other), host/ (the operator's tool), tests/unit
# (cmocka), tests/harness (device and Xen models), tests/fuzz (libFuzzer),
# tests/e2e (real QEMU), tests/xen (real Xen nested in QEMU).

BUILD		?= build
CC		?= gcc
HOSTCC		?= $(CC)
OBJCOPY		?= objcopy
PYTHON		?= python3

WARN		:= -std=c11 -Wall -Wextra -Werror
SAN		:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer

# The guest: freestanding x86-64, linked at 1 MiB, identity mapped.
GUEST_CFLAGS	:= $(WARN) -O2 -g -ffreestanding -fno-builtin -nostdinc \
		   -isystem $(shell $(CC) -print-file-name=include) \
		   -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
		   -mgeneral-regs-only -fno-asynchronous-unwind-tables \
		   -Iinclude -Ivirtio -Ixen -Iguest -DBN_BATCH_MAX=4096 \
		   $(if $(GUEST_DEBUG),-DBN_DEBUG)
GUEST_LDFLAGS	:= -nostdlib -static -no-pie -Wl,--build-id=none \
		   -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

# Host code: unit tests and tools, always under ASan and UBSan.
HOST_CFLAGS	:= $(WARN) -O1 -g $(SAN) -D_DEFAULT_SOURCE -Iinclude -Ivirtio -Ixen
HOST_LDFLAGS	:= $(SAN)

PORTABLE_SRCS	?= $(wildcard engine/*.c) $(wildcard virtio/*.c) $(wildcard xen/*.c)
GUEST_SRCS	:= $(PORTABLE_SRCS) $(wildcard guest/*.c) $(EXTRA_GUEST_SRCS)
GUEST_ASRCS	:= $(wildcard guest/*.S)
GUEST_OBJS	:= $(patsubst %.c,$(BUILD)/guest-obj/%.o,$(GUEST_SRCS)) \
		   $(patsubst %.S,$(BUILD)/guest-obj/%.o,$(GUEST_ASRCS))

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_LIB_SRCS	:= $(PORTABLE_SRCS) tests/unit/fake_port.c \
		   $(wildcard tests/harness/*.c)
UNIT_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(UNIT_LIB_SRCS))

CLI_SRCS	:= $(wildcard host/*.c)
# The CLI shares the engine's number parser (engine/str.c).
CLI_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(CLI_SRCS) engine/str.c)

# ballonetd (daemon/): the CLI's QMP client, logical size (memsize.c),
# run directory and sizes are linked in, not copied.  The libvirt backend
# (with host/libvirt.c) is built when its source is there, else
# backend_none.c makes --connect say it is not built.
DAEMON_LIBVIRT	:= $(if $(wildcard daemon/backend_libvirt.c),daemon/backend_libvirt.c host/libvirt.c,daemon/backend_none.c)
DAEMON_SRCS	:= $(filter-out daemon/backend_libvirt.c daemon/backend_none.c, \
		   $(wildcard daemon/*.c)) $(DAEMON_LIBVIRT) \
		   host/qmp.c host/memsize.c host/rundir.c host/size.c engine/str.c
DAEMON_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(DAEMON_SRCS))
DAEMON_LIBS	 = -ljansson -lconfig -lsystemd -lmicrohttpd -lpthread \
		   $(if $(filter daemon/backend_libvirt.c,$(DAEMON_LIBVIRT)),$(or $(LIBVIRT_LIBS),-lvirt))
# The policies and collection are pure: their unit tests link them alone.
POLICY_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(wildcard daemon/policy*.c) \
		   daemon/collect.c daemon/config.c host/size.c engine/str.c)
POLICY_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%, \
		   $(wildcard tests/unit/test_policy*.c))
# host/libvirt.c: libvirt's C API, and libxml2 for domain XML.
LIBVIRT_CFLAGS	= $(shell pkg-config --cflags libvirt libxml-2.0)
LIBVIRT_LIBS	= $(shell pkg-config --libs libvirt libxml-2.0) -lpthread

# Fuzz targets (tests/fuzz/fuzz_*.c): libFuzzer from Debian's clang, with
# ASan and UBSan; their corpora are in tests/fuzz/corpus/TARGET/.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 600
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	:= $(WARN) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		   -D_DEFAULT_SOURCE -Iinclude -Ivirtio -Ixen -Itests/unit \
		   -Itests/harness
FUZZ_TARGETS	:= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS	:= $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(UNIT_LIB_SRCS))
FUZZ_SHELL_OBJS	:= $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,guest/shell.c \
		   guest/cmd_sysctl.c guest/cmd_mem.c guest/wave.c \
		   tests/fuzz/guest_stubs.c)

# The unit tests of the portable code again as i386 binaries (gcc-multilib,
# libcmocka-dev:i386), under ASan and UBSan: what a 32-bit port runs.
UNIT32_TESTS	:= test_balloon test_fmt test_features test_hostile test_viomb \
		   test_virtqueue test_xen
UNIT32_BINS	:= $(addprefix $(BUILD)/tests32/,$(UNIT32_TESTS))
UNIT32_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/host32-obj/%.o,$(UNIT_LIB_SRCS))
.SECONDARY: $(UNIT32_LIB_OBJS)

# The portable code as a small OS builds it: freestanding, with nothing
# but the compiler's own headers, for i386 and 32-bit Arm (Debian's
# gcc-arm-none-eabi; Cortex-M3 in Thumb state, Cortex-A7 in Arm state).
# `make cross` links each into one relocatable object,
# $(BUILD)/cross/ARCH/ballonet.o; scripts/cross.sh checks what it needs.
CROSS_ARCHS	:= i386 cortex-m3 cortex-a7
CROSS_CC_i386	:= $(CC) -m32 -fno-pic
CROSS_CC_cortex-m3 := arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb
CROSS_CC_cortex-a7 := arm-none-eabi-gcc -mcpu=cortex-a7 -marm
CROSS_CFLAGS	:= $(WARN) -O2 -ffreestanding -fno-builtin -nostdinc \
		   -fno-stack-protector -Iinclude -Ivirtio -Ixen

.PHONY: all guest cli daemon unit deps check check-xen demo interop bench bench-policy clean fuzzers fuzz \
	unit32 cross $(addprefix cross-,$(CROSS_ARCHS))
all: guest cli daemon unit

guest: $(BUILD)/ballonet-guest.elf

# QEMU's multiboot loader takes 32-bit ELF files only; the code inside is
# 64-bit and starts in guest/boot.S's 32-bit entry.
$(BUILD)/ballonet-guest.elf: $(BUILD)/ballonet-guest64.elf
	$(OBJCOPY) -O elf32-i386 $< $@

$(BUILD)/ballonet-guest64.elf: $(GUEST_OBJS) guest/linker.ld
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -T guest/linker.ld -o $@ \
	    $(GUEST_OBJS) -lgcc

$(BUILD)/guest-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/guest-obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

cli: $(if $(CLI_SRCS),$(BUILD)/ballonet)

$(BUILD)/ballonet: $(CLI_OBJS)
	$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^ -ljansson $(LIBVIRT_LIBS)

daemon: $(BUILD)/ballonetd

$(BUILD)/ballonetd: $(DAEMON_OBJS)
	$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

unit: $(UNIT_BINS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Itests/unit -Itests/harness -o $@ $^ \
	    -lcmocka $(HOST_LDFLAGS)

# The CLI's size parser has a unit test of its own, linked with it alone.
$(BUILD)/tests/test_size: tests/unit/test_size.c $(BUILD)/host-obj/host/size.o \
    $(BUILD)/host-obj/engine/str.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka $(HOST_LDFLAGS)

# vm start's choice of accelerator, a pure function.
$(BUILD)/tests/test_accel: tests/unit/test_accel.c $(BUILD)/host-obj/host/accel.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka $(HOST_LDFLAGS)

# vm console's raw mode on a pty; tcgetattr() made to fail by --wrap.
$(BUILD)/tests/test_tty: tests/unit/test_tty.c $(BUILD)/host-obj/host/tty.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka $(HOST_LDFLAGS) \
	    -Wl,--wrap=tcgetattr,--wrap=tcsetattr

# The verbs' option tables and the help printed from them.
$(BUILD)/tests/test_opt: tests/unit/test_opt.c $(BUILD)/host-obj/host/opt.o \
    $(BUILD)/host-obj/host/cli.o $(BUILD)/host-obj/host/qmp.o \
    $(BUILD)/host-obj/host/memsize.o $(BUILD)/host-obj/host/rundir.o \
    $(BUILD)/host-obj/host/size.o $(BUILD)/host-obj/engine/str.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka -ljansson \
	    $(HOST_LDFLAGS)

# set --wait's loop, against a scripted reader and a pseudo-terminal.
$(BUILD)/tests/test_wait: tests/unit/test_wait.c $(BUILD)/host-obj/host/opt.o \
    $(BUILD)/host-obj/host/cli.o $(BUILD)/host-obj/host/qmp.o \
    $(BUILD)/host-obj/host/memsize.o $(BUILD)/host-obj/host/rundir.o \
    $(BUILD)/host-obj/host/size.o $(BUILD)/host-obj/engine/str.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka -ljansson \
	    $(HOST_LDFLAGS)

# The QMP reader, against a peer on a socketpair.
$(BUILD)/tests/test_qmp: tests/unit/test_qmp.c $(BUILD)/host-obj/host/qmp.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka -ljansson \
	    $(HOST_LDFLAGS)

# The logical size's plan, and its requests to a scripted QMP peer.
$(BUILD)/tests/test_memsize: tests/unit/test_memsize.c \
    $(BUILD)/host-obj/host/memsize.o $(BUILD)/host-obj/host/qmp.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka -ljansson \
	    $(HOST_LDFLAGS)

# libvirt.c against libvirt's test:///default driver (in-process, real);
# it plans sizes with memsize.c (which speaks QMP too).
LIBVIRT_OBJS	:= $(BUILD)/host-obj/host/libvirt.o \
		   $(BUILD)/host-obj/host/memsize.o $(BUILD)/host-obj/host/qmp.o
$(BUILD)/tests/test_libvirt: tests/unit/test_libvirt.c $(LIBVIRT_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Ihost -o $@ $^ -lcmocka $(LIBVIRT_LIBS) \
	    -ljansson $(HOST_LDFLAGS)

$(BUILD)/host-obj/host/libvirt.o: HOST_CFLAGS += $(LIBVIRT_CFLAGS)

# The daemon's libvirt backend, against the same test driver.
$(BUILD)/tests/test_backend_libvirt: tests/unit/test_backend_libvirt.c \
    $(BUILD)/host-obj/daemon/backend_libvirt.o \
    $(BUILD)/host-obj/daemon/backend.o $(LIBVIRT_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Idaemon -Ihost -o $@ $^ -lcmocka \
	    $(LIBVIRT_LIBS) -ljansson $(HOST_LDFLAGS)

$(POLICY_TESTS): $(BUILD)/tests/%: tests/unit/%.c $(POLICY_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Idaemon -Ihost -o $@ $^ -lcmocka -lconfig -lm \
	    $(HOST_LDFLAGS)

$(BUILD)/host-obj/daemon/%.o: HOST_INC := -Idaemon -Ihost
$(BUILD)/host-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Itests/unit -Itests/harness $(HOST_INC) -MMD -MP -c -o $@ $<

unit32: $(UNIT32_BINS)

$(BUILD)/tests32/%: tests/unit/%.c $(UNIT32_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) -m32 $(HOST_CFLAGS) -Itests/unit -Itests/harness -o $@ $^ \
	    -lcmocka -m32 $(HOST_LDFLAGS)

$(BUILD)/host32-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -m32 $(HOST_CFLAGS) -Itests/unit -Itests/harness -MMD -MP -c -o $@ $<

cross: $(addprefix cross-,$(CROSS_ARCHS))

define CROSS_RULES
cross-$(1): $(BUILD)/cross/$(1)/ballonet.o

$(BUILD)/cross/$(1)/ballonet.o: $(patsubst %.c,$(BUILD)/cross/$(1)/%.o,$(PORTABLE_SRCS))
	$$(CROSS_CC_$(1)) -nostdlib -r -o $$@ $$^

$(BUILD)/cross/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CROSS_CC_$(1)) $$(CROSS_CFLAGS) \
	    -isystem $$(shell $$(CROSS_CC_$(1)) -print-file-name=include) \
	    -MMD -MP -c -o $$@ $$<
endef
$(foreach a,$(CROSS_ARCHS),$(eval $(call CROSS_RULES,$(a))))

fuzzers: $(FUZZ_BINS)

$(BUILD)/fuzz/fuzz_viomb: $(FUZZ_LIB_OBJS)
$(BUILD)/fuzz/fuzz_viomem: $(FUZZ_LIB_OBJS)
$(BUILD)/fuzz/fuzz_sysctl: $(FUZZ_LIB_OBJS) $(FUZZ_SHELL_OBJS)
$(BUILD)/fuzz/fuzz_xenstore: $(FUZZ_LIB_OBJS)
$(BUILD)/fuzz/fuzz_size: $(BUILD)/fuzz-obj/host/size.o \
    $(BUILD)/fuzz-obj/engine/str.o
$(BUILD)/fuzz/fuzz_qmp: $(BUILD)/fuzz-obj/host/qmp.o
$(BUILD)/fuzz/fuzz_qmp: FUZZ_LIBS := -ljansson
$(BUILD)/fuzz/fuzz_memsize: $(BUILD)/fuzz-obj/host/qmp.o \
    $(BUILD)/fuzz-obj/host/memsize.o
$(BUILD)/fuzz/fuzz_memsize: FUZZ_LIBS := -ljansson -lpthread
# `ballonet watch` itself, linked with the rest of the CLI but its main().
$(BUILD)/fuzz/fuzz_watch: $(patsubst %.c,$(BUILD)/fuzz-obj/%.o, \
    $(filter-out host/main.c,$(CLI_SRCS)) engine/str.c)
$(BUILD)/fuzz/fuzz_watch: FUZZ_LIBS = -ljansson -lpthread $(LIBVIRT_LIBS)
# A message split over lines in a table, as the code means it.
$(BUILD)/fuzz-obj/host/libvirt.o: FUZZ_CFLAGS += $(LIBVIRT_CFLAGS) \
    -Wno-string-concatenation

$(BUILD)/fuzz/%: $(BUILD)/fuzz-obj/tests/fuzz/%.o
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

# The guest's shell builds on the host as it is, over tests/fuzz's stubs.
$(BUILD)/fuzz-obj/guest/%.o $(BUILD)/fuzz-obj/tests/fuzz/%.o: \
    FUZZ_INC := -Iguest -Ihost -Itests/fuzz
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -MMD -MP -c -o $@ $<

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory all fuzzers unit32
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/debug GUEST_DEBUG=1 guest
	@bash scripts/check.sh

# BENCH_ARGS: e.g. --config tiny, --runs 5, --guests ours,linux.
# Only the Xen suites: Xen 4.17 nested in QEMU, our guest as a PVH domU.
check-xen: deps guest
	$(PYTHON) -u tests/xen/test_bed.py test_dom0
	$(PYTHON) -u tests/xen/test_xen_balloon.py

bench: deps
	@$(MAKE) --no-print-directory guest
	$(PYTHON) -u bench/run.py $(BENCH_ARGS)
	$(PYTHON) -u bench/hotplug.py $(HOTPLUG_BENCH_ARGS)

# ballonetd's policies side by side on one workload (bench/policy.py).
bench-policy: deps
	@$(MAKE) --no-print-directory guest cli daemon
	$(PYTHON) -u bench/policy.py $(BENCH_POLICY_ARGS)

demo: deps
	@$(MAKE) --no-print-directory guest cli
	@bash scripts/demo.sh

# The CLI's scenario against Debian's Linux and its virtio_balloon driver.
interop: deps
	@$(MAKE) --no-print-directory cli
	@BUILD=$(BUILD) PYTHON=$(PYTHON) sh scripts/interop.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
