# SPDX-License-Identifier: GPL-2.0
#
# faultline: build every C binary into build/, run the project's tests.
#
#   make                 probe, runner and case binaries
#   make STATIC=1        the same, fully static (for initramfs use)
#   make ARCH=arm64 STATIC=1 O=build-static-arm64
#                        cross-build for arm64 or riscv64 (scripts/deps.sh
#                        arm64|riscv64 installs the cross compiler)
#   make check           the project's own tests (pytest)
#   make mutants         every lie of tools/liar over the suite (root, ~10 min)
#   make kernel-uffd-unit-tests
#                        the kernel's own uffd-unit-tests (bench/suite.sh's
#                        yardstick) from the cached linux-source package
#   make KSFT_DIR=...    use the kselftest headers of your own kernel tree
#                        (<linux>/tools/testing/selftests)

CC	?= gcc
PYTHON	?= /usr/bin/python3
O	?= build
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread
CFLAGS	+= -Iharness
# The one version string (VERSION): every binary reports it.
VERSION	:= $(shell cat VERSION)
CFLAGS	+= -DFAULTLINE_VERSION="\"$(VERSION)\""
LDLIBS	+= -lcap -lseccomp -pthread
# Symbols bound at start: a case binary forks twice per point, and with lazy
# binding every child resolved each libc function it called again (and
# copied the GOT page it wrote).
LDFLAGS	+= -Wl,-z,now
ifeq ($(STATIC),1)
LDFLAGS	+= -static
endif

FAULTLINE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/faultline

# Cross builds. Triplets as in kernels/arch.py. arm64's static libcap and
# libseccomp are Debian's arm64 packages (multiarch, scripts/deps.sh arm64);
# bookworm has no riscv64 packages, so riscv64's are trixie's -dev packages
# unpacked into a private directory (kernels/sysroot.py says why and how).
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH	?= $(HOST_ARCH)
TRIPLET_amd64	:= x86_64-linux-gnu
TRIPLET_arm64	:= aarch64-linux-gnu
TRIPLET_riscv64	:= riscv64-linux-gnu
# The kernel's names mean the same (an ARCH exported for kernel builds).
DEBARCH_x86_64	:= amd64
DEBARCH_x86	:= amd64
DEBARCH_aarch64	:= arm64
DEBARCH_riscv	:= riscv64
FL_ARCH	:= $(or $(DEBARCH_$(ARCH)),$(ARCH))
ifneq ($(FL_ARCH),$(HOST_ARCH))
ifeq ($(TRIPLET_$(FL_ARCH)),)
$(error ARCH=$(ARCH): faultline cross-builds for amd64, arm64, riscv64)
endif
CC	:= $(TRIPLET_$(FL_ARCH))-gcc
AR	:= $(TRIPLET_$(FL_ARCH))-ar
DEPS	:= $(FL_ARCH)
ifeq ($(FL_ARCH),riscv64)
SYSROOT	:= $(FAULTLINE_CACHE)/sysroot/$(FL_ARCH)
CFLAGS	+= -isystem $(SYSROOT)/usr/include
LDFLAGS	+= -L$(SYSROOT)/usr/lib/$(TRIPLET_$(FL_ARCH))
endif
endif
KSFT_DIR ?= $(FAULTLINE_CACHE)/ksft
# The 6.1 harness trips -Wextra (an unused parameter): include it as a
# system header so warnings in kernel code do not fail our build.
KSFT_CFLAGS := -isystem $(KSFT_DIR)

HARNESS_SRC := $(wildcard harness/*.c)
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(O)/%.o)
LIB	:= $(O)/libfaultline.a

PROBE_SRC := $(wildcard probes/*.c)
PROBE_OBJ := $(PROBE_SRC:%.c=$(O)/%.o)
PROBE	:= $(if $(PROBE_SRC),$(O)/uffd-probe)

# The runner (runner/): executes the probe and the cases, writes the stream.
RUNNER_SRC := $(wildcard runner/*.c)
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(O)/%.o)
RUNNER	:= $(O)/faultline-runner

CASE_SRC := $(wildcard cases/*.c)
CASES	:= $(CASE_SRC:cases/%.c=$(O)/cases/%)

# Small helper programs the tests use (e.g. run a command under seccomp).
TOOL_SRC := $(wildcard tools/*.c)
TOOLS	:= $(TOOL_SRC:tools/%.c=$(O)/tools/%)

# The liar (tools/liar/README.md): an LD_PRELOAD library, so dynamic only.
LIAR_SRC := $(wildcard tools/liar/*.c)
LIAR	:= $(if $(filter 1,$(STATIC)),,$(if $(LIAR_SRC),$(O)/tools/liar.so))

# The fault-path benchmark (bench/uffd-bench/README.md) and its self-test,
# which links the same objects with lying ioctls to prove verification.
BENCH_SRC := $(filter-out %/selftest.c,$(wildcard bench/uffd-bench/*.c))
BENCH_OBJ := $(BENCH_SRC:%.c=$(O)/%.o)
BENCH_BIN := $(if $(BENCH_SRC),$(O)/uffd-bench)
BENCH	:= $(if $(BENCH_SRC),$(BENCH_BIN) $(O)/bench/uffd-bench-selftest)

all: $(PROBE) $(RUNNER) $(CASES) $(TOOLS) $(LIAR) $(BENCH)

deps:
	@scripts/deps.sh build $(DEPS)

ifdef SYSROOT
$(SYSROOT)/faultline-sysroot.json: kernels/sysroot.py
	$(PYTHON) -m kernels.sysroot $(FL_ARCH) $(SYSROOT)

$(HARNESS_OBJ) $(PROBE_OBJ) $(O)/faultline-runner $(CASES) $(TOOLS) \
		$(BENCH_OBJ) $(O)/bench/uffd-bench/selftest.o: \
	| $(SYSROOT)/faultline-sysroot.json
endif

$(O)/harness/%.o: harness/%.c $(wildcard harness/*.h) VERSION | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Rebuilt whole: a renamed or removed source must not leave its object in.
$(LIB): $(HARNESS_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/probes/%.o: probes/%.c $(wildcard probes/*.h harness/*.h) VERSION | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iprobes -c -o $@ $<

# /proc/config.gz is read with zlib (zlib1g-dev). Linked statically even
# in a dynamic build: loading libz.so would cost the probe more time than
# reading the config does.
PROBE_LDLIBS := $(if $(filter 1,$(STATIC)),-lz,-Wl,-Bstatic -lz -Wl,-Bdynamic)

$(PROBE): $(PROBE_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(PROBE_LDLIBS)

$(O)/runner/%.o: runner/%.c $(wildcard runner/*.h harness/*.h) VERSION | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Irunner -c -o $@ $<

$(RUNNER): $(RUNNER_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/uffd-bench/%.o: bench/uffd-bench/%.c \
		$(wildcard bench/uffd-bench/*.h harness/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench/uffd-bench -c -o $@ $<

$(O)/uffd-bench: $(BENCH_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/uffd-bench-selftest: $(filter-out %/main.o,$(BENCH_OBJ)) \
		$(O)/bench/uffd-bench/selftest.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The harness headers are fetched once (see scripts/fetch-ksft.sh). The
# build directory keeps a copy: with another HOME or XDG_CACHE_HOME (a new,
# empty cache) fetch-ksft.sh finds them there instead of downloading.
$(KSFT_DIR)/kselftest_harness.h:
	KSFT_NEED=headers scripts/fetch-ksft.sh $(KSFT_DIR) $(O)/ksft

$(O)/ksft/kselftest_harness.h: $(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	cp $(KSFT_DIR)/kselftest.h $(KSFT_DIR)/kselftest_harness.h $(dir $@)

$(CASES): $(O)/ksft/kselftest_harness.h

$(O)/cases/%: cases/%.c $(LIB) $(wildcard harness/*.h cases/*.h) VERSION \
		$(KSFT_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/tools/%: tools/%.c $(LIB) $(wildcard harness/*.h tools/*.h) VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/tools/liar.so: $(LIAR_SRC) $(wildcard tools/liar/*.h) harness/uffd_compat.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $(LIAR_SRC) -ldl

# The kernel's own uffd-unit-tests, built from the linux-source package the
# harness headers came from (fetch-ksft.sh keeps it in the same cache, no
# kernel code in the tree): bench/suite.sh's yardstick, never in all. Built
# as the kernel's selftests Makefile does (-O2); the raw UAPI headers of the
# tree stand in for its headers_install (which turns __packed into the
# attribute).
KUT_TREE := $(KSFT_DIR)/uffd-unit-tests
KUT_MM	:= $(KUT_TREE)/tools/testing/selftests/mm
KUT	:= $(O)/kernel/uffd-unit-tests

$(KUT_MM)/uffd-unit-tests.c:
	KSFT_NEED=uffd-unit-tests scripts/fetch-ksft.sh $(KSFT_DIR)

$(KUT): $(KUT_MM)/uffd-unit-tests.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -w -D'__packed=__attribute__((packed))' \
		-isystem $(KUT_TREE)/include/uapi -I $(KUT_TREE)/tools/testing/selftests \
		$(LDFLAGS) -o $@ $(filter %.c,$(wildcard $(addprefix $(KUT_MM)/, \
		uffd-unit-tests.c uffd-common.c vm_util.c thp_settings.c))) \
		-lrt -lpthread -lm

kernel-uffd-unit-tests: $(KUT)

check: all
	@scripts/deps.sh test vm browser fleet package
	$(PYTHON) -m pytest -q tests

# Every lie of tools/liar/catalogue.tsv over the whole suite (as root).
mutants: all
	$(PYTHON) tools/liar/mutants.py --build $(O)

# The quick subset (one lie per ioctl and message field); make check runs it.
mutants-quick: all
	$(PYTHON) tools/liar/mutants.py --build $(O) --quick

clean:
	rm -rf $(O)

.PHONY: all deps check clean mutants mutants-quick kernel-uffd-unit-tests
.DELETE_ON_ERROR:

# ---- Distribution: kselftest collection, install, Debian package ----
#
#   make kselftest-install INSTALL_PATH=DIR   the kselftest collection
#                        "faultline" (run with DIR/run_kselftest.sh)
#   make kselftest-tar   $(O)/faultline-kselftest.tar.xz, as LKFT/tuxrun
#                        take one (KSELFTEST=...); for a board, build it
#                        static: make kselftest-tar STATIC=1 O=build-static
#   make install PREFIX=/usr DESTDIR=...
#                        bin/faultline, bin/uffd-probe, libexec/faultline/,
#                        share/faultline/ (Python), share/man/man1/
#   make man             $(O)/man/faultline.1, uffd-probe.1 (help2man)

# Seconds per binary under run_kselftest.sh: run.py's default --timeout.
KSFT_TIMEOUT ?= 60
KSELFTEST_TAR ?= $(O)/faultline-kselftest.tar.xz

$(KSFT_DIR)/run_kselftest.sh:
	scripts/fetch-ksft.sh $(KSFT_DIR)

kselftest-install: $(PROBE) $(CASES) $(KSFT_DIR)/run_kselftest.sh
	@test -n "$(INSTALL_PATH)" || { echo "make kselftest-install: set INSTALL_PATH=DIR" >&2; exit 2; }
	dist/kselftest/install.sh $(O) $(KSFT_DIR) $(KSFT_TIMEOUT) $(INSTALL_PATH)

# The tree at the top of the tarball (./run_kselftest.sh, ./faultline/),
# as tuxmake packs the kernel's kselftest.tar.xz.
kselftest-tar: $(PROBE) $(CASES) $(KSFT_DIR)/run_kselftest.sh
	@rm -rf $(O)/kselftest-tar
	dist/kselftest/install.sh $(O) $(KSFT_DIR) $(KSFT_TIMEOUT) $(O)/kselftest-tar
	tar -cJf $(KSELFTEST_TAR) --owner=0 --group=0 --sort=name -C $(O)/kselftest-tar .
	@rm -rf $(O)/kselftest-tar
	@echo "kselftest tarball: $(KSELFTEST_TAR)"

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/faultline
DATADIR	?= $(PREFIX)/share/faultline
MANDIR	?= $(PREFIX)/share/man
# Static builds beside the dynamic one (make STATIC=1 O=build-static, and
# build-static-<arch> for cross builds) are installed when they exist:
# libexec/faultline/static[-<arch>], where faultline --kernel looks.
STATIC_O ?= build-static
PY_FILES := run.py faultline_paths.py VERSION $(wildcard reports/*.py kernels/*.py \
	reports/templates/* reports/schema/* expectations/*.yaml)
MANPAGES := $(O)/man/faultline.1 $(O)/man/uffd-probe.1

man: $(MANPAGES)

# What make install installs, built (debian/rules builds this first).
programs: $(PROBE) $(RUNNER) $(CASES) $(BENCH_BIN) $(MANPAGES)

# help2man reads --help, so the pages follow the options; the sections
# --help has no room for come from dist/man/*.h2m. run.py's argparse calls
# itself run.py: installed, the command is faultline.
$(O)/man/faultline.1: run.py dist/faultline.in dist/man/faultline.h2m VERSION
	@mkdir -p $(dir $@)
	sed 's|@DATADIR@|$(CURDIR)|' dist/faultline.in > $(O)/man/faultline
	chmod 0755 $(O)/man/faultline
	help2man --no-info --section=1 --version-string=$(VERSION) \
		--name="userfaultfd conformance suite and compatibility reports" \
		--include=dist/man/faultline.h2m $(O)/man/faultline | \
		sed -e 's/\.\/run/run/g; s/run\\\.py/faultline/g; s/run\.py/faultline/g' > $@

$(O)/man/uffd-probe.1: $(PROBE) dist/man/uffd-probe.h2m VERSION
	@mkdir -p $(dir $@)
	help2man --no-info --section=1 --version-string=$(VERSION) \
		--name="what userfaultfd can do on this kernel, and why not" \
		--include=dist/man/uffd-probe.h2m --output=$@ $(PROBE)

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/cases $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PROBE) $(RUNNER) $(BENCH_BIN) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(CASES) $(DESTDIR)$(LIBEXECDIR)/cases/
	for s in $(wildcard $(STATIC_O) $(STATIC_O)-*); do \
		test -x $$s/faultline-runner || continue; \
		d=$(DESTDIR)$(LIBEXECDIR)/static$${s#$(STATIC_O)}; \
		install -d $$d/cases && install -m 0755 $$s/faultline-runner $$s/uffd-probe $$d/ && \
		{ test ! -x $$s/uffd-bench || install -m 0755 $$s/uffd-bench $$d/; } && \
		install -m 0755 $$s/cases/* $$d/cases/ || exit 1; \
	done
	for f in $(PY_FILES); do install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/$$f || exit 1; done
	printf '{"libexecdir": "%s"}\n' $(LIBEXECDIR) > $(DESTDIR)$(DATADIR)/faultline-install.json
	sed 's|@DATADIR@|$(DATADIR)|' dist/faultline.in > $(DESTDIR)$(BINDIR)/faultline
	chmod 0755 $(DESTDIR)$(BINDIR)/faultline
	ln -sf $(shell realpath -m --relative-to=$(BINDIR) $(LIBEXECDIR)/uffd-probe) \
		$(DESTDIR)$(BINDIR)/uffd-probe
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(BINDIR)/faultline $(DESTDIR)$(BINDIR)/uffd-probe \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,faultline.1 uffd-probe.1)

.PHONY: kselftest-install kselftest-tar man programs install uninstall
