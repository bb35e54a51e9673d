# SPDX-License-Identifier: GPL-2.0
#
# faultline: build every C binary into build/, run the project's tests.
#
#   make                 probe, runner and case binaries
#   make STATIC=1        the same, fully static (for initramfs use)
#   make check           the project's own tests (pytest)
#   make mutants         every lie of tools/liar over the suite (root, ~10 min)
#   make KSFT_DIR=...    use the kselftest headers of your own kernel tree
#                        (<linux>/tools/testing/selftests)

CC	?= gcc
PYTHON	?= /usr/bin/python3
O	?= build
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread
CFLAGS	+= -Iharness
LDLIBS	+= -lcap -lseccomp -pthread
ifeq ($(STATIC),1)
LDFLAGS	+= -static
endif

FAULTLINE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/faultline
KSFT_DIR ?= $(FAULTLINE_CACHE)/ksft
# The 6.1 harness trips -Wextra (an unused parameter): include it as a
# system header so warnings in kernel code do not fail our build.
KSFT_CFLAGS := -isystem $(KSFT_DIR)

HARNESS_SRC := $(filter-out harness/runner%,$(wildcard harness/*.c))
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(O)/%.o)
LIB	:= $(O)/libfaultline.a

PROBE_SRC := $(wildcard probes/*.c)
PROBE_OBJ := $(PROBE_SRC:%.c=$(O)/%.o)
PROBE	:= $(if $(PROBE_SRC),$(O)/uffd-probe)

RUNNER	:= $(if $(wildcard harness/runner.c),$(O)/faultline-runner)

CASE_SRC := $(wildcard cases/*.c)
CASES	:= $(CASE_SRC:cases/%.c=$(O)/cases/%)

# Small helper programs the tests use (e.g. run a command under seccomp).
TOOL_SRC := $(wildcard tools/*.c)
TOOLS	:= $(TOOL_SRC:tools/%.c=$(O)/tools/%)

# The liar (tools/liar/README.md): an LD_PRELOAD library, so dynamic only.
LIAR_SRC := $(wildcard tools/liar/*.c)
LIAR	:= $(if $(filter 1,$(STATIC)),,$(if $(LIAR_SRC),$(O)/tools/liar.so))

all: $(PROBE) $(RUNNER) $(CASES) $(TOOLS) $(LIAR)

deps:
	@scripts/deps.sh build

$(O)/harness/%.o: harness/%.c $(wildcard harness/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(HARNESS_OBJ)
	$(AR) rcs $@ $^

$(O)/probes/%.o: probes/%.c $(wildcard probes/*.h harness/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iprobes -c -o $@ $<

$(PROBE): $(PROBE_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/faultline-runner: $(wildcard harness/runner*.c) $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(LIB) $(LDLIBS)

# The harness headers are fetched once (see scripts/fetch-ksft.sh).
$(KSFT_DIR)/kselftest_harness.h:
	scripts/fetch-ksft.sh $(KSFT_DIR)

$(O)/cases/%: cases/%.c $(LIB) $(wildcard harness/*.h cases/*.h) \
		$(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/tools/%: tools/%.c $(LIB) $(wildcard harness/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/tools/liar.so: $(LIAR_SRC) $(wildcard tools/liar/*.h) harness/uffd_compat.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $(LIAR_SRC) -ldl

check: all
	@scripts/deps.sh test vm browser
	$(PYTHON) -m pytest -q tests

# Every lie of tools/liar/catalogue.tsv over the whole suite (as root).
mutants: all
	$(PYTHON) tools/liar/mutants.py --build $(O)

# The quick subset (one lie per ioctl and message field); make check runs it.
mutants-quick: all
	$(PYTHON) tools/liar/mutants.py --build $(O) --quick

clean:
	rm -rf $(O)

.PHONY: all deps check clean mutants mutants-quick
.DELETE_ON_ERROR:
