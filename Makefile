# SPDX-License-Identifier: GPL-2.0-only
#
# vduse: build, test and lint a from-scratch VDUSE driver against Debian's
# Linux 6.12.  `make help` lists the targets.

SHELL := /bin/bash
TOP := $(CURDIR)

# Newest installed 6.12 amd64 kernel with headers, e.g. 6.12.117+deb12-amd64.
# Both are recursive (`?=`): on a fresh machine the headers appear only
# once `deps-if-needed` has run, so they must be looked up when a recipe
# uses them, not when make reads this file.
KVER ?= $(shell ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null | \
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
KDIR ?= /usr/src/linux-headers-$(KVER)

# Build products and caches that must not live in the tree.
BUILD ?= $(TOP)/build
CACHE ?= /var/tmp/vduse-cache
SRC_TARBALL ?= /usr/src/linux-source-6.12.tar.xz

DRV := $(TOP)/drivers/vdpa/vdpa_user
SELFTESTS := $(TOP)/tools/testing/selftests/vduse
VMDIR := $(SELFTESTS)/vm

# Out of tree, our uapi header must shadow the copy that ships inside the
# kernel headers (an older vduse.h).  NOSTDINC_FLAGS comes before the
# kernel's own include paths; in-tree builds need none of this.
KBUILD_ARGS = -C $(KDIR) M=$(DRV) W=1 KCFLAGS=-Werror \
	NOSTDINC_FLAGS="-nostdinc -I$(TOP)/include/uapi"

export KVER KDIR BUILD CACHE SRC_TARBALL TOP

.PHONY: all module selftests deps check vm demo lint intree bench clean help \
	debug-kernel deb dkms-check

all: module selftests

help:
	@echo "make deps      install every Debian package the project needs"
	@echo "make           build vduse.ko (KDIR=$(KDIR)) and the selftests"
	@echo "make check     run the selftests in a QEMU guest (T=<test> for one)"
	@echo "make vm        interactive guest shell with the module built"
	@echo "make demo      a virtio-blk disk and a virtio-fs directory served from userspace"
	@echo "make bench     fio: ours vs Debian's vduse, ublk, null_blk (BENCH=full)"
	@echo "make lint      checkpatch, sparse, kernel-doc, ABI and docs checks"
	@echo "make intree    build the driver inside linux-source-6.12"
	@echo "make deb       the vduse-dkms package, in build/deb"
	@echo "make dkms-check  install it here, modprobe in the VM, remove it"
	@echo "make debug-kernel  build the KASAN/lockdep/kmemleak test kernel"
	@echo "make check KERNEL=debug  the tests on it (T='a b' for some)"

deps:
	@$(TOP)/scripts/deps.sh

# `make check` and `make demo` install what is missing first.
deps-if-needed:
	@$(TOP)/scripts/deps.sh --if-needed

module:
	@test -d "$(KDIR)" || { echo "no 6.12 kernel headers (KDIR=$(KDIR)): run 'make deps'"; exit 1; }
	$(MAKE) $(KBUILD_ARGS) modules

selftests:
	@ksft=$$($(TOP)/scripts/ksft-headers.sh) && \
	$(MAKE) -C $(SELFTESTS) OUTPUT=$(BUILD)/selftests KSFT_INCLUDE=$$ksft \
		EXTRA_CFLAGS=-Werror
	@$(MAKE) -s -C $(SELFTESTS) list-tests > $(BUILD)/selftests/tests.list

# KERNEL=debug: the same tests on a KASAN/lockdep/kmemleak kernel built
# from linux-source-6.12 (scripts/debug-kernel.sh, cached).
# The targets that install what they need first build in a sub-make, after
# the install, and never in parallel with it.
BUILD_AFTER_DEPS = @$(MAKE) --no-print-directory all

check: deps-if-needed
	$(BUILD_AFTER_DEPS)
ifeq ($(KERNEL),debug)
	@out=$$($(TOP)/scripts/debug-module.sh) && \
	dk=$$(sed -n 1p <<< "$$out") && \
	VDUSE_KERNEL=$$dk/arch/x86/boot/bzImage \
	KVER=$$(cat $$dk/include/config/kernel.release) \
	VDUSE_KO=$$(sed -n 2p <<< "$$out") VDUSE_VM_MEM=3072 \
	$(VMDIR)/run-tests.sh --timeout 5400 $(foreach t,$(T),--test $(t))
else
	@$(VMDIR)/run-tests.sh $(foreach t,$(T),--test $(t))
endif

debug-kernel:
	@$(TOP)/scripts/debug-kernel.sh

vm: deps-if-needed
	$(BUILD_AFTER_DEPS)
	@$(VMDIR)/run-vm.sh --interactive

demo: deps-if-needed
	$(BUILD_AFTER_DEPS)
	@$(VMDIR)/run-vm.sh --job $(TOP)/scripts/demo-guest.sh

# BENCH_REPS=, BENCH_RUNTIME=, ...: see scripts/bench.sh and bench/README.md.
bench: deps-if-needed
	$(BUILD_AFTER_DEPS)
	@$(TOP)/scripts/bench.sh

lint: module
	@$(TOP)/scripts/lint.sh

intree:
	@$(TOP)/scripts/intree.sh

deb:
	@$(TOP)/scripts/dkms-deb.sh $(BUILD)/deb

dkms-check: deps-if-needed
	$(BUILD_AFTER_DEPS)
	@$(TOP)/scripts/dkms-check.sh

clean:
	-$(MAKE) $(KBUILD_ARGS) clean
	rm -rf $(BUILD)
