// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench self-test: proves that a measurement cannot report a number
 * for an operation that did nothing.
 *
 * 1. The verification functions on crafted inputs (a flipped byte, a
 *    missing page, a scan answer with a region too few or too many).
 * 2. The real measurements with lying ioctls: the bench_io table entries
 *    are replaced by functions that report success (and a full output
 *    field) without doing the work, or do the wrong work. Each measurement
 *    must then come out "failed"; the same measurement with the honest
 *    table must come out "measured", so the check is not vacuous.
 *
 * Prints TAP; exit 0 when every check passed. Not part of uffd-bench
 * itself: the production binary has no way to install a liar.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "fault.h"
#include "rig.h"
#include "vmstate.h"
#include "verify.h"

static int checks, failures;

static void check(bool ok, const char *fmt, const char *arg)
{
	checks++;
	failures += !ok;
	printf("%sok %d - ", ok ? "" : "not ", checks);
	printf(fmt, arg);
	putchar('\n');
	fflush(stdout);
}

/* ---- 1. crafted inputs ---- */

static void crafted_bytes(void)
{
	size_t page = 4096, n = 4;
	char *buf = malloc(page * n), why[200];

	if (!buf)
		exit(2);
	pattern_fill(buf, page * n, 7);
	check(verify_pattern(buf, page, n, 7, why, sizeof(why)),
	      "verify_pattern accepts the pattern%s", "");
	check(!verify_pattern(buf, page, n, 8, why, sizeof(why)),
	      "verify_pattern rejects another seed's pattern%s", "");
	buf[2 * page + 100] ^= 0x40;
	check(!verify_pattern(buf, page, n, 7, why, sizeof(why)) &&
	      strstr(why, "page 2 byte 100"),
	      "verify_pattern names the flipped byte (%s)", why);
	memset(buf, 0, page * n);
	check(verify_zero(buf, page, n, why, sizeof(why)),
	      "verify_zero accepts zeroes%s", "");
	buf[page * n - 1] = 1;
	check(!verify_zero(buf, page, n, why, sizeof(why)),
	      "verify_zero rejects a non-zero last byte (%s)", why);
	buf[0] = buf[page] = buf[2 * page] = (char)0x81;
	check(!verify_first_bytes(buf, page, n, 0x81, why, sizeof(why)) &&
	      strstr(why, "page 3"),
	      "verify_first_bytes finds the unwritten page (%s)", why);
	check(!verify_count("faults", 3, 4, why, sizeof(why)),
	      "verify_count rejects 3 of 4 (%s)", why);
	free(buf);
}

static void crafted_pagemap(void)
{
	size_t page = (size_t)getpagesize();
	char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), why[200];

	if (m == MAP_FAILED)
		exit(2);
	m[0] = m[2 * page] = 1;
	check(verify_present(m, 4 * page, 2, why, sizeof(why)),
	      "verify_present counts the two touched pages%s", "");
	check(!verify_present(m, 4 * page, 4, why, sizeof(why)),
	      "verify_present rejects two holes (%s)", why);
	check(!verify_wp_bits(m, page, 4, true, why, sizeof(why)),
	      "verify_wp_bits rejects unprotected pages (%s)", why);
	check(verify_wp_bits(m, page, 4, false, why, sizeof(why)),
	      "verify_wp_bits accepts unprotected pages as unprotected%s", "");
	munmap(m, 4 * page);
}

static void crafted_scan(void)
{
	const uintptr_t base = 0x100000;
	const size_t page = 4096, n = 6;
	struct page_region good[3], vec[4];
	char why[240];
	int i;

	/* Pages 1, 3, 5 written (parity 1). */
	for (i = 0; i < 3; i++)
		good[i] = (struct page_region){ base + (2 * i + 1) * page,
			base + (2 * i + 2) * page, PAGE_IS_WRITTEN };
	check(verify_scan(good, 3, base, page, n, 1, why, sizeof(why)),
	      "verify_scan accepts pages 1, 3, 5%s", "");
	check(!verify_scan(good, 2, base, page, n, 1, why, sizeof(why)),
	      "verify_scan rejects a missing region (%s)", why);
	check(!verify_scan(good, 3, base, page, n, 0, why, sizeof(why)),
	      "verify_scan rejects the other half (%s)", why);
	memcpy(vec, good, sizeof(good));
	vec[3] = (struct page_region){ base, base + page, PAGE_IS_WRITTEN };
	check(!verify_scan(vec, 4, base, page, n, 1, why, sizeof(why)),
	      "verify_scan rejects an extra region (%s)", why);
	memcpy(vec, good, sizeof(good));
	vec[1].end += page;	/* merged with an unwritten neighbour */
	check(!verify_scan(vec, 3, base, page, n, 1, why, sizeof(why)),
	      "verify_scan rejects a region too long (%s)", why);
	memcpy(vec, good, sizeof(good));
	vec[2].categories = 0;
	check(!verify_scan(vec, 3, base, page, n, 1, why, sizeof(why)),
	      "verify_scan rejects a wrong category (%s)", why);
	check(!verify_scan(good, -EPERM, base, page, n, 1, why, sizeof(why)),
	      "verify_scan rejects an error (%s)", why);
}

/* A timed run of few clock steps is not a figure; a long one is. */
static void crafted_clock(void)
{
	uint64_t step = bench_clock_step_ns();
	struct result r = { .status = RES_MEASURED, .page_size = 4096 };
	struct repeat rep;

	repeat_begin(&rep, 2, 1.0);
	repeat_record(&rep, 8, CLOCK_STEPS_PER_TIMING * step);
	repeat_record(&rep, 1, step);
	repeat_end(&rep, &r, false);
	check(r.status == RES_NOT_MEASURED && !strcmp(r.cause, "coarse_clock"),
	      "a run of one clock step is not reported (%s)", r.why);
	memset(&r, 0, sizeof(r));
	r.page_size = 4096;
	repeat_begin(&rep, 1, 1.0);
	repeat_record(&rep, 8, CLOCK_STEPS_PER_TIMING * step);
	repeat_end(&rep, &r, false);
	check(r.status == RES_MEASURED && r.pages_per_s.median > 0,
	      "a run of 50 clock steps is reported%s", "");
}

/*
 * The pre-5.18 hugetlb fallback of mem_drop(): a view mapped afresh has
 * no pages and is registered again (COPY into it works); without the
 * uffd it is not (COPY answers ENOENT), so the check can tell.
 */
static void remap_fallback(enum mem_type mem)
{
	struct mem_area a;
	char why[200], *src;
	int fd, ret;

	if (mem_alloc(&a, mem, 2, why, sizeof(why))) {
		checks++;
		printf("ok %d - mem_remap on %s # SKIP %s\n", checks,
		       mem_type_name(mem), why);
		return;
	}
	src = calloc(1, a.page);
	fd = uffd_open(0, NULL);
	if (!src || fd < 0 ||
	    uffd_register_range(fd, a.addr, a.len,
				UFFDIO_REGISTER_MODE_MISSING, NULL) ||
	    uffd_copy_all(fd, a.addr, src, a.page, 0, NULL))
		exit(2);
	ret = mem_remap(&a, fd, UFFDIO_REGISTER_MODE_MISSING);
	check(!ret && vm_present_count(a.addr, a.len) == 0 &&
	      !uffd_copy_all(fd, mem_page(&a, 1), src, a.page, 0, NULL),
	      "mem_remap leaves %s unmapped and registered", mem_type_name(mem));
	ret = mem_remap(&a, -1, 0);
	check(!ret && uffd_copy_all(fd, mem_page(&a, 1), src, a.page, 0,
				    NULL) == -ENOENT,
	      "mem_remap without a uffd leaves %s unregistered",
	      mem_type_name(mem));
	close(fd);
	free(src);
	mem_free(&a);
}

/* ---- 2. liars: success reported, nothing (or the wrong thing) done ---- */

static int lie_copy(int fd, struct uffdio_copy *a)
{
	(void)fd;
	a->copy = (int64_t)a->len;
	return 0;
}

/* Map zeroes where the source bytes should land, and claim a copy. */
static int lie_copy_zeroes(int fd, struct uffdio_copy *a)
{
	struct uffdio_zeropage z = { .range = { a->dst, a->len } };
	int ret = uffd_zeropage(fd, &z);

	a->copy = ret ? ret : (int64_t)a->len;
	return ret;
}

static int lie_zeropage(int fd, struct uffdio_zeropage *a)
{
	(void)fd;
	a->zeropage = (int64_t)a->range.len;
	return 0;
}

static int lie_continue(int fd, struct uffdio_continue *a)
{
	(void)fd;
	a->mapped = (int64_t)a->range.len;
	return 0;
}

static int lie_move(int fd, struct uffdio_move *a)
{
	(void)fd;
	a->move = (int64_t)a->len;
	return 0;
}

static int lie_poison(int fd, struct uffdio_poison *a)
{
	(void)fd;
	a->updated = (int64_t)a->range.len;
	return 0;
}

static int lie_writeprotect(int fd, struct uffdio_writeprotect *a)
{
	(void)fd;
	(void)a;
	return 0;
}

static int lie_scan(int fd, struct pm_scan_arg *a)
{
	(void)fd;
	(void)a;
	return 0;	/* "nothing was written" */
}

struct lie {
	const char *name;
	void (*install)(struct bench_io *io);
	enum mem_type mem;
	enum op_id ops[3];	/* measurements it must break (OP_NR ends) */
};

static void inst_copy(struct bench_io *io) { io->copy = lie_copy; }
static void inst_copy_zeroes(struct bench_io *io) { io->copy = lie_copy_zeroes; }
static void inst_zeropage(struct bench_io *io) { io->zeropage = lie_zeropage; }
static void inst_continue(struct bench_io *io) { io->cont = lie_continue; }
static void inst_move(struct bench_io *io) { io->move = lie_move; }
static void inst_poison(struct bench_io *io) { io->poison = lie_poison; }
static void inst_wp(struct bench_io *io) { io->writeprotect = lie_writeprotect; }
static void inst_scan(struct bench_io *io) { io->scan = lie_scan; }

static const struct lie lies[] = {
	{ "COPY does nothing", inst_copy, MEM_ANON,
	  { OP_LAT_MISSING_COPY, OP_COPY, OP_NR } },
	{ "COPY maps zeroes", inst_copy_zeroes, MEM_ANON,
	  { OP_LAT_MISSING_COPY, OP_COPY, OP_NR } },
	{ "ZEROPAGE does nothing", inst_zeropage, MEM_ANON,
	  { OP_LAT_MISSING_ZEROPAGE, OP_ZEROPAGE, OP_NR } },
	{ "CONTINUE does nothing", inst_continue, MEM_SHMEM,
	  { OP_LAT_MINOR_CONTINUE, OP_CONTINUE, OP_NR } },
	{ "MOVE does nothing", inst_move, MEM_ANON,
	  { OP_LAT_MISSING_MOVE, OP_MOVE, OP_NR } },
	{ "POISON does nothing", inst_poison, MEM_ANON, { OP_POISON, OP_NR } },
	{ "WRITEPROTECT does nothing", inst_wp, MEM_ANON,
	  { OP_LAT_WP_UNPROTECT, OP_WRITEPROTECT, OP_UNPROTECT } },
	{ "PAGEMAP_SCAN finds nothing", inst_scan, MEM_ANON,
	  { OP_WP_ASYNC_SCAN, OP_NR } },
};

static void run_op(enum op_id op, const struct bench_cfg *cfg,
		   struct result *r)
{
	memset(r, 0, sizeof(*r));
	if (op_table[op].kind == KIND_LATENCY)
		measure_latency(op, cfg, r);
	else
		measure_throughput(op, cfg, r);
}

static void liar(const struct lie *l, struct bench_cfg *cfg)
{
	const struct bench_io honest = bench_io;
	char name[512];
	struct result r;
	size_t i;

	cfg->mem = l->mem;
	for (i = 0; i < 3 && l->ops[i] != OP_NR; i++) {
		enum op_id op = l->ops[i];

		snprintf(name, sizeof(name), "%s on %s", op_table[op].name,
			 mem_type_name(l->mem));
		run_op(op, cfg, &r);
		if (r.status == RES_NOT_MEASURED) {
			/* The kernel cannot do it at all: nothing to lie about. */
			checks++;
			printf("ok %d - %s # SKIP %s\n", checks, name, r.why);
			continue;
		}
		check(r.status == RES_MEASURED,
		      "%s is measured with honest ioctls", name);
		l->install(&bench_io);
		run_op(op, cfg, &r);
		bench_io = honest;
		snprintf(name + strlen(name), sizeof(name) - strlen(name),
			 " with '%s': %s", l->name,
			 r.status == RES_FAILED ? r.why : "NOT CAUGHT");
		check(r.status == RES_FAILED, "%s", name);
	}
}

int main(void)
{
	struct bench_cfg cfg = {
		.repeats = 1, .batch = 1, .faults = 32, .pages = 32,
		.share_s = 1.0,
	};
	size_t i;

	sigbus_catch();
	crafted_bytes();
	crafted_pagemap();
	crafted_scan();
	crafted_clock();
	remap_fallback(MEM_SHMEM);
	hugetlb_reserve(4);
	remap_fallback(MEM_HUGETLB_PRIVATE);
	if (uffd_query(&cfg.features, NULL)) {
		printf("# no userfaultfd here: the liar checks cannot run\n");
		printf("1..%d\n", checks);
		return failures ? 1 : 0;
	}
	/* A lie that leaves a fault unresolved must not cost 10 s each. */
	bench_stall_timeout_ms = 300;
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++)
		liar(&lies[i], &cfg);
	printf("1..%d\n", checks);
	return failures ? 1 : 0;
}
