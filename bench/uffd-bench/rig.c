// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: memory, a registered uffd and a servicer for one measurement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault.h"
#include "rig.h"
#include "verify.h"

static int pagemap_scan_ioctl(int pagemap_fd, struct pm_scan_arg *arg)
{
	int ret = ioctl(pagemap_fd, PAGEMAP_SCAN, arg);

	return ret < 0 ? -errno : ret;
}

struct bench_io bench_io = {
	.copy = uffd_copy,
	.zeropage = uffd_zeropage,
	.cont = uffd_continue,
	.move = uffd_move,
	.poison = uffd_poison,
	.writeprotect = uffd_writeprotect,
	.scan = pagemap_scan_ioctl,
};

/*
 * UFFDIO_MOVE is offered by REGISTER on every type, but the kernel moves
 * only what it can (anonymous private pages today). Ask it once, on two
 * pages: a refusal with EINVAL is the kernel saying "not this memory".
 */
static bool move_applies(enum mem_type mem, uint64_t features,
			 struct result *r)
{
	struct mem_area a;
	struct uffdio_move mv;
	size_t done;
	int fd, ret;
	char *buf;

	if (bench_alloc(&a, mem, 2, r))
		return false;
	fd = gate_open_register(OP_MOVE, mem, features, a.addr, a.len, r);
	buf = malloc(a.page);
	if (fd < 0 || !buf) {
		if (fd >= 0)
			res_fail(r, "no_memory", "malloc: out of memory");
		goto out;
	}
	memset(buf, 0x5a, a.page);
	ret = uffd_copy_all(fd, a.addr, buf, a.page, 0, &done);
	if (ret) {
		res_fail(r, "ioctl_failed", "COPY of the page to move: %s",
			 strerror(-ret));
		goto out;
	}
	mv = (struct uffdio_move){ .dst = (uintptr_t)mem_page(&a, 1),
				   .src = (uintptr_t)a.addr, .len = a.page };
	ret = uffd_move(fd, &mv);
	if (ret == -EINVAL)
		res_skip(r, "refused",
			 "kernel refused UFFDIO_MOVE on %s with EINVAL (it moves anonymous private pages only)",
			 mem_type_name(mem));
	else if (ret)
		res_fail(r, "ioctl_failed", "UFFDIO_MOVE of one page: %s",
			 strerror(-ret));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	mem_free(&a);
	return r->status == RES_MEASURED;
}

enum rig_io op_io(enum op_id op)
{
	switch (op) {
	case OP_LAT_MISSING_COPY:
	case OP_COPY:			return IO_COPY;
	case OP_LAT_MISSING_ZEROPAGE:
	case OP_ZEROPAGE:		return IO_ZEROPAGE;
	case OP_LAT_MINOR_CONTINUE:
	case OP_CONTINUE:		return IO_CONTINUE;
	case OP_LAT_MISSING_MOVE:
	case OP_MOVE:			return IO_MOVE;
	case OP_POISON:			return IO_POISON;
	case OP_WRITEPROTECT:		return IO_PROTECT;
	default:			return IO_UNPROTECT;
	}
}

static const char *const io_names[] = {
	[IO_COPY] = "COPY", [IO_ZEROPAGE] = "ZEROPAGE",
	[IO_CONTINUE] = "CONTINUE", [IO_MOVE] = "MOVE",
	[IO_POISON] = "POISON", [IO_PROTECT] = "WRITEPROTECT (protect)",
	[IO_UNPROTECT] = "WRITEPROTECT (un-protect)",
};

/* Issue @io; *@out gets the output field (the length when there is none). */
static int issue(struct rig *g, enum rig_io io, uint64_t dst, size_t first,
		 uint64_t len, int64_t *out)
{
	int fd = rig_uffd(g), ret;

	*out = (int64_t)len;
	switch (io) {
	case IO_COPY: {
		struct uffdio_copy a = { .dst = dst, .len = len,
			.src = (uintptr_t)(g->srcbuf + first * g->page) };

		ret = bench_io.copy(fd, &a);
		*out = a.copy;
		return ret;
	}
	case IO_ZEROPAGE: {
		struct uffdio_zeropage a = { .range = { dst, len } };

		ret = bench_io.zeropage(fd, &a);
		*out = a.zeropage;
		return ret;
	}
	case IO_CONTINUE: {
		struct uffdio_continue a = { .range = { dst, len } };

		ret = bench_io.cont(fd, &a);
		*out = a.mapped;
		return ret;
	}
	case IO_MOVE: {
		struct uffdio_move a = { .dst = dst, .len = len,
			.src = (uintptr_t)mem_page(&g->src, first) };

		ret = bench_io.move(fd, &a);
		*out = a.move;
		return ret;
	}
	case IO_POISON: {
		struct uffdio_poison a = { .range = { dst, len } };

		ret = bench_io.poison(fd, &a);
		*out = a.updated;
		return ret;
	}
	default: {
		struct uffdio_writeprotect a = { .range = { dst, len },
			.mode = io == IO_PROTECT ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

		return bench_io.writeprotect(fd, &a);
	}
	}
}

int rig_ioctl(struct rig *g, enum rig_io io, size_t first, size_t n,
	      char *why, size_t whylen)
{
	uint64_t len = n * g->page;
	int64_t out;
	int ret = issue(g, io, (uintptr_t)mem_page(&g->area, first), first,
			len, &out);

	if (!ret && out != (int64_t)len)
		ret = -EIO;
	if (ret)
		snprintf(why, whylen,
			 "UFFDIO_%s at page %zu: %s (output field %lld)",
			 io_names[io], first, strerror(-ret), (long long)out);
	return ret;
}

int rig_uffd(const struct rig *g)
{
	return g->s ? g->s->uffd : -1;
}

size_t rig_len(const struct rig *g)
{
	return g->page * g->npages;
}

struct rig *rig_new(enum op_id op, const struct bench_cfg *cfg,
		    size_t npages, struct result *r)
{
	enum rig_io io = op_io(op);
	struct rig *g = calloc(1, sizeof(*g));
	uint64_t need;
	int fd;

	if (!g) {
		res_fail(r, "no_memory", "calloc: out of memory");
		return NULL;
	}
	g->op = op;
	g->mem = cfg->mem;
	g->npages = npages;
	if (!gate_features(op, cfg->mem, cfg->features, &need, r))
		goto fail;
	if (op_table[op].ioctl == _UFFDIO_MOVE &&
	    !move_applies(cfg->mem, need, r))
		goto fail;
	if (bench_alloc(&g->area, cfg->mem, npages, r))
		goto fail;
	g->area_ok = true;
	g->page = g->area.page;
	if (io == IO_MOVE) {
		if (bench_alloc(&g->src, cfg->mem, npages, r))
			goto fail;
		g->src_ok = true;
	}
	if (io == IO_COPY) {
		g->srcbuf = malloc(rig_len(g));
		if (!g->srcbuf) {
			res_fail(r, "no_memory", "malloc(%zu): out of memory",
				 rig_len(g));
			goto fail;
		}
	}
	/*
	 * Write protection needs present pages. Write them now, before any
	 * uffd watches the area: this thread must never touch registered
	 * memory, where a fault nobody resolves would hold it for good.
	 */
	if (op_table[op].mode == UFFDIO_REGISTER_MODE_WP)
		pattern_fill(g->area.addr, rig_len(g), 1);
	fd = gate_open_register(op, cfg->mem, need, g->area.addr,
				g->area.len, r);
	if (fd < 0)
		goto fail;
	g->s = session_new(fd);
	if (!g->s) {
		res_fail(r, "no_thread", "starting the fault servicer: %s",
			 strerror(errno));
		goto fail;
	}
	return g;
fail:
	rig_free(g);
	return NULL;
}

int rig_reset(struct rig *g, unsigned int seed)
{
	size_t len = rig_len(g);

	switch (op_io(g->op)) {
	case IO_CONTINUE:
		/* New bytes in the page cache, no pte in the registered view. */
		pattern_fill(g->area.alias, len, seed);
		return mem_drop(&g->area, false, rig_uffd(g),
				op_table[g->op].mode);
	case IO_COPY:
		pattern_fill(g->srcbuf, len, seed);
		break;
	case IO_MOVE:
		pattern_fill(g->src.addr, len, seed);
		break;
	default:
		break;
	}
	return mem_drop(&g->area, true, rig_uffd(g), op_table[g->op].mode);
}

bool rig_verify_filled(struct rig *g, unsigned int seed, char *why,
		       size_t whylen)
{
	size_t len = rig_len(g);
	bool ok = verify_present(g->area.addr, len, len / (size_t)getpagesize(),
				 why, whylen);

	if (ok && op_io(g->op) == IO_ZEROPAGE)
		ok = verify_zero(g->area.addr, g->page, g->npages, why, whylen);
	else if (ok)
		ok = verify_pattern(g->area.addr, g->page, g->npages, seed, why,
				    whylen);
	if (ok && op_io(g->op) == IO_MOVE)
		ok = verify_present(g->src.addr, len, 0, why, whylen);
	return ok;
}

void rig_free(struct rig *g)
{
	if (!g)
		return;
	/* A thread still blocked in this memory must keep it (see session.h). */
	if (!session_free(g->s))
		return;
	if (g->area_ok)
		mem_free(&g->area);
	if (g->src_ok)
		mem_free(&g->src);
	free(g->srcbuf);
	free(g);
}

void touch_pages(char *base, size_t page, struct touch_plan *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		volatile char *addr = base + (p->first + i * p->step) * page;
		unsigned char v = p->value;
		uint64_t t0 = 0;

		__atomic_store_n(&p->done, i, __ATOMIC_RELAXED);
		if (p->sigbus) {
			/* Poisoned pages must raise SIGBUS on access. */
			p->sigbus_seen += sigbus_probe(addr, TOUCH_READ, &v);
			continue;
		}
		if (p->ns)
			t0 = bench_now_ns();
		if (p->kind == FAULT_WRITE)
			*addr = (char)v;
		else
			(void)*addr;
		if (p->ns)
			p->ns[p->nns++] = bench_now_ns() - t0;
	}
}

static void touch_job_main(void *arg)
{
	struct rig *g = arg;

	touch_pages(g->area.addr, g->page, &g->plan);
}

int rig_touch(struct rig *g, char *why, size_t whylen)
{
	g->plan.done = 0;
	return session_run(g->s, touch_job_main, g, &g->plan.done, why, whylen);
}

bool rig_touch_expect(struct rig *g, uint64_t want, const char *what,
		      struct result *r)
{
	uint64_t before = session_faults(g->s);
	char why[200];
	int ret = rig_touch(g, why, sizeof(why));

	if (ret) {
		res_fail(r, ret == -ETIMEDOUT ? "fault_unresolved" :
			 "servicer_error", "%s: %s", what, why);
		return false;
	}
	return res_verify(r, verify_count("faults resolved",
					  session_faults(g->s) - before, want,
					  why, sizeof(why)), what, why);
}
