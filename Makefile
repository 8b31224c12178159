# ballonet: memory ballooning for virtual machines.
#
#   make          build the reference guest, the host tool and the unit tests
#   make check    install what is missing, run every test suite
#   make demo     install what is missing, boot a guest, balloon it down and up
#
# Layout: engine/ (portable engine), virtio/ (virtio front-end and transports),
# guest/ (the reference guest kernel: a port like any other), host/ (the
# operator's tool), tests/unit (cmocka), tests/e2e (real QEMU).

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
		   -Iinclude -Ivirtio -Iguest
GUEST_LDFLAGS	:= -nostdlib -static -no-pie -Wl,--build-id=none \
		   -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

# Host code: unit tests and tools, always under ASan and UBSan.
HOST_CFLAGS	:= $(WARN) -O1 -g $(SAN) -D_DEFAULT_SOURCE -Iinclude -Ivirtio
HOST_LDFLAGS	:= $(SAN)

PORTABLE_SRCS	?= $(wildcard engine/*.c) $(wildcard virtio/*.c)
GUEST_SRCS	:= $(PORTABLE_SRCS) $(wildcard guest/*.c) $(EXTRA_GUEST_SRCS)
GUEST_ASRCS	:= $(wildcard guest/*.S)
GUEST_OBJS	:= $(patsubst %.c,$(BUILD)/guest-obj/%.o,$(GUEST_SRCS)) \
		   $(patsubst %.S,$(BUILD)/guest-obj/%.o,$(GUEST_ASRCS))

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_LIB_SRCS	:= $(PORTABLE_SRCS) tests/unit/fake_port.c
UNIT_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(UNIT_LIB_SRCS))

CLI_SRCS	:= $(wildcard host/*.c)
CLI_OBJS	:= $(patsubst %.c,$(BUILD)/host-obj/%.o,$(CLI_SRCS))

.PHONY: all guest cli unit deps check demo clean
all: guest cli unit

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
	$(CC) $(GUEST_CFLAGS) -MMD -c -o $@ $<

$(BUILD)/guest-obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -c -o $@ $<

cli: $(if $(CLI_SRCS),$(BUILD)/ballonet)

$(BUILD)/ballonet: $(CLI_OBJS)
	$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^ -ljansson

unit: $(UNIT_BINS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Itests/unit -o $@ $^ -lcmocka $(HOST_LDFLAGS)

$(BUILD)/host-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -Itests/unit -MMD -c -o $@ $<

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

demo: deps
	@$(MAKE) --no-print-directory guest cli
	@scripts/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
