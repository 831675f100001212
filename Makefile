# HAMMER2 for Linux - top-level build (GNU make).
#
#   make            libhammer2.a and the tools into build/
#   make check      deps, build, unit tests (plain and ASan), integration
#                   tests, kernel module; last line "N passed, N failed"
#   make kmod       build/hammer2.ko against the Debian 6.1 kernel headers
#   make deps       install the Debian packages the project needs
#   make demo | bench | install PREFIX=... | format | format-check | clean
#   make vmtest     the module in a QEMU VM (tests/vm/); "vmtest: N passed, N failed"
#   make bench-vm   fio/metadata/sqlite benchmark of raw, ext4, btrfs, xfs,
#                   hammer2 in one VM boot (tests/vm/bench-vm.sh)

.DEFAULT_GOAL := all
B := build

CC ?= cc
AR ?= ar
CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11
CPPFLAGS := -Isys/hammer2 -Isys/hammer2/user -D_GNU_SOURCE
DEPFLAGS := -MMD -MP
LDLIBS := -llz4 -lz -lxxhash -lmd -lbsd -luuid -lpthread
TEST_LDLIBS := -lcunit
# UBSan findings are fatal so a test cannot pass while reporting one.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
# Extra flags from the command line (e.g. EXTRA_CFLAGS=-O0).
EXTRA_CFLAGS ?=

PREFIX ?= /usr/local
DESTDIR ?=

# ----- sources -----

LIB_SRCS := $(wildcard sys/hammer2/*.c sys/hammer2/user/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
ASAN_LIB_OBJS := $(patsubst %.c,$(B)/asan/obj/%.o,$(LIB_SRCS))
LIB := $(B)/libhammer2.a
ASAN_LIB := $(B)/asan/libhammer2.a

TEST_SRCS := $(wildcard tests/unit/test_*.c)
# Other .c files in tests/unit are helpers linked into every test.
TEST_HELPERS := $(filter-out $(TEST_SRCS),$(wildcard tests/unit/*.c))
TEST_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(TEST_SRCS))
ASAN_TEST_BINS := $(patsubst tests/unit/%.c,$(B)/asan/tests/%,$(TEST_SRCS))

PROGS :=
ASAN_PROGS :=

# $(call prog,NAME,SRCDIR): build/bin/NAME and build/asan/bin/NAME from
# SRCDIR/*.c, skipped while SRCDIR has no sources.
define prog
ifneq ($(wildcard $(2)/*.c),)
PROGS += $(B)/bin/$(1)
ASAN_PROGS += $(B)/asan/bin/$(1)
$(B)/bin/$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(2)/*.c)) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(EXTRA_CFLAGS) -o $$@ $$^ $$(LDLIBS)
$(B)/asan/bin/$(1): $(patsubst %.c,$(B)/asan/obj/%.o,$(wildcard $(2)/*.c)) $(ASAN_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(EXTRA_CFLAGS) $$(ASAN_FLAGS) -o $$@ $$^ $$(LDLIBS)
endif
endef

$(eval $(call prog,newfs_hammer2,sbin/newfs_hammer2))
$(eval $(call prog,hammer2,sbin/hammer2))
$(eval $(call prog,fsck_hammer2,sbin/fsck_hammer2))
$(eval $(call prog,h2sim,sim))

# ----- targets -----

# Keep every object (chained pattern rules would delete test objects) and
# never leave a half-written target behind.
.SECONDARY:
.DELETE_ON_ERROR:

.PHONY: all lib tests asan check deps kmod demo bench install format \
	format-check clean soak vmtest bench-vm

all: $(LIB) $(PROGS)

lib: $(LIB)

tests: $(TEST_BINS)

asan: $(ASAN_LIB) $(ASAN_PROGS) $(ASAN_TEST_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(ASAN_FLAGS) $(DEPFLAGS) \
		-c -o $@ $<

# Recreated from scratch so objects of removed sources do not linger.
$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(ASAN_LIB): $(ASAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/tests/%: $(B)/obj/tests/unit/%.o \
		$(patsubst %.c,$(B)/obj/%.o,$(TEST_HELPERS)) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(TEST_LDLIBS) $(LDLIBS)

$(B)/asan/tests/%: $(B)/asan/obj/tests/unit/%.o \
		$(patsubst %.c,$(B)/asan/obj/%.o,$(TEST_HELPERS)) $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(ASAN_FLAGS) -o $@ $^ \
		$(TEST_LDLIBS) $(LDLIBS)

check:
	@MAKE="$(MAKE)" scripts/check.sh

deps:
	@scripts/deps.sh

kmod:
	@scripts/kmod.sh

# demo, bench and bench-vm install their packages first, so on a fresh machine the
# README's commands are the whole set-up.
demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh
	@scripts/bench-sim.sh

# h2sim: 100,000 generated seeds and every flush cut of every captured
# workload (long; not part of make check, which runs scripts/sim-check.sh
# with 1,000 seeds).
soak: $(B)/bin/h2sim
	@SIM_SOAK=1 scripts/sim-check.sh

# The kernel module in a QEMU (TCG) VM: POSIX suite, /usr/include round
# trip, captured workloads replayed against tmpfs, host-side fsck/export
# (tests/vm/vmtest-host.sh; exit 77 = skipped when QEMU/kernel missing).
vmtest: all kmod
	@tests/vm/vmtest-host.sh

# One VM boot, the same virtio disk freshly formatted for each filesystem:
# fio, create/stat/unlink, sqlite replay; table to BENCHMARKS.md, chart in
# build/vm/bench-vm.png.
bench-vm:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all kmod
	@tests/vm/bench-vm.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(B)/bin/newfs_hammer2 $(B)/bin/hammer2 \
		$(B)/bin/fsck_hammer2 $(DESTDIR)$(PREFIX)/sbin/
	ln -sf newfs_hammer2 $(DESTDIR)$(PREFIX)/sbin/mkfs.hammer2
	ln -sf fsck_hammer2 $(DESTDIR)$(PREFIX)/sbin/fsck.hammer2

FORMAT_FILES = $(shell find sys sbin sim tests -name '*.[ch]' 2>/dev/null)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj $(B)/asan/obj -name '*.d' 2>/dev/null)
