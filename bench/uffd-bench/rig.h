/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-bench: the set-up one uffd measurement needs (memory, a registered
 * uffd, the servicer) and the touches its vCPU thread makes.
 */
#ifndef UFFD_BENCH_RIG_H
#define UFFD_BENCH_RIG_H

#include "bench.h"
#include "session.h"

/* Which pages a vCPU job touches, and how. */
struct touch_plan {
	size_t count;		/* pages touched: first, first + step, ... */
	size_t first, step;
	enum op_fault kind;	/* FAULT_READ or FAULT_WRITE */
	unsigned char value;	/* written by FAULT_WRITE */
	uint64_t *ns;		/* if set: each touch's time, appended */
	size_t nns;		/* ... at ns[nns], which is advanced */
	bool sigbus;		/* count touches that raise SIGBUS instead */
	size_t sigbus_seen;	/* out */
	size_t done;		/* touches completed (the watchdog reads it) */
};

struct rig {
	enum op_id op;
	enum mem_type mem;
	struct mem_area area;	/* registered with the op's mode */
	struct mem_area src;	/* MOVE: pages to move in (same type) */
	char *srcbuf;		/* COPY: the bytes to copy in */
	size_t page, npages;
	struct session *s;
	bool area_ok, src_ok;
	/* The vCPU job's plan: kept here, it must live as long as the rig. */
	struct touch_plan plan;
};

/* The ioctls a measurement issues. */
enum rig_io {
	IO_COPY, IO_ZEROPAGE, IO_CONTINUE, IO_MOVE, IO_POISON,
	IO_PROTECT, IO_UNPROTECT,
};

/* The ioctl that @op measures (or resolves its faults with). */
enum rig_io op_io(enum op_id op);
/*
 * @io over pages [first, first + n) of the area, through bench_io: COPY
 * from srcbuf and MOVE from the src area at the same offset. A success
 * whose output field is not the whole length counts as -EIO. 0 or -errno
 * with the reason in @why.
 */
int rig_ioctl(struct rig *g, enum rig_io io, size_t first, size_t n,
	      char *why, size_t whylen);

/*
 * Everything @op needs on @cfg->mem over @npages pages (with a source for
 * COPY and MOVE; for WP modes the pages present, pattern 1): NULL with @r
 * saying why not (not measured, or failed).
 */
struct rig *rig_new(enum op_id op, const struct bench_cfg *cfg,
		    size_t npages, struct result *r);
/*
 * Before COPY, ZEROPAGE, CONTINUE, MOVE or POISON over the whole area:
 * every page a hole again (for CONTINUE: cached with pattern @seed, not
 * mapped), the source holding pattern @seed. Untimed. 0 or -errno.
 */
int rig_reset(struct rig *g, unsigned int seed);
/*
 * After COPY, ZEROPAGE, CONTINUE or MOVE over the whole area: every page
 * is mapped and holds pattern @seed (zeroes for ZEROPAGE), and MOVE's
 * source pages are gone. false with the reason in @why.
 */
bool rig_verify_filled(struct rig *g, unsigned int seed, char *why,
		       size_t whylen);
/* Free it all, unless a vCPU thread of it could not be freed. */
void rig_free(struct rig *g);
int rig_uffd(const struct rig *g);
/* Bytes of the whole area. */
size_t rig_len(const struct rig *g);

/* Run g->plan's touches on the vCPU thread. 0 or -errno (why in @why). */
int rig_touch(struct rig *g, char *why, size_t whylen);
/* The same touches in the calling thread (memory that cannot block). */
void touch_pages(char *base, size_t page, struct touch_plan *plan);

/*
 * Run g->plan on the vCPU thread and demand exactly @want faults resolved
 * during it. false with @r failed (cause, and @what in the reason) if not.
 */
bool rig_touch_expect(struct rig *g, uint64_t want, const char *what,
		      struct result *r);

#endif /* UFFD_BENCH_RIG_H */
