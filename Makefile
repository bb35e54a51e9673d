# SPDX-License-Identifier: GPL-2.0
#
# faultline: build every C binary into build/, run the project's tests.
#
#   make                 probe, runner and case binaries
#   make STATIC=1        the same, fully static (for initramfs use)
#   make check           the project's own tests (pytest)
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

# The fault-path benchmark (bench/uffd-bench/README.md) and its self-test,
# which links the same objects with lying ioctls to prove verification.
BENCH_SRC := $(filter-out %/selftest.c,$(wildcard bench/uffd-bench/*.c))
BENCH_OBJ := $(BENCH_SRC:%.c=$(O)/%.o)
BENCH	:= $(if $(BENCH_SRC),$(O)/uffd-bench $(O)/bench/uffd-bench-selftest)

all: $(PROBE) $(RUNNER) $(CASES) $(TOOLS) $(BENCH)

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

$(O)/bench/uffd-bench/%.o: bench/uffd-bench/%.c \
		$(wildcard bench/uffd-bench/*.h harness/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench/uffd-bench -c -o $@ $<

$(O)/uffd-bench: $(BENCH_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/uffd-bench-selftest: $(filter-out %/main.o,$(BENCH_OBJ)) \
		$(O)/bench/uffd-bench/selftest.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

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

check: all
	@scripts/deps.sh test vm browser
	$(PYTHON) -m pytest -q tests

clean:
	rm -rf $(O)

.PHONY: all deps check clean
.DELETE_ON_ERROR:
