# SPDX-License-Identifier: GPL-2.0
#
# The part of tools/testing/selftests/lib.mk these tests use, for building
# outside a kernel tree.  KSFT_INCLUDE names a directory whose parent holds
# kselftest_harness.h (see scripts/ksft-headers.sh), so that the tests'
# "../kselftest_harness.h" resolves as it does in-tree.

OUTPUT ?= $(CURDIR)
KHDR_INCLUDES ?= -isystem $(abspath $(CURDIR)/../../../../include/uapi)
CFLAGS += -D_GNU_SOURCE= $(if $(KSFT_INCLUDE),-I$(KSFT_INCLUDE))

TEST_GEN_PROGS := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_PROGS))
TEST_GEN_PROGS_EXTENDED := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_PROGS_EXTENDED))

all: $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED)

$(OUTPUT)/%: %.c $(LOCAL_HDRS)
	@mkdir -p $(OUTPUT)
	$(LINK.c) $(filter-out $(LOCAL_HDRS),$^) $(LDLIBS) -o $@

clean:
	rm -f $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED)

.PHONY: all clean
.DEFAULT_GOAL := all
