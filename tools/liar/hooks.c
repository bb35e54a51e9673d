// SPDX-License-Identifier: GPL-2.0
/*
 * faultline liar: the hooks a lie is made of. Most are generic (set or
 * clear a mode bit, pretend success, bend an output field, swap an errno,
 * edit a message field) and take their parameters from the lie's row in
 * lies.c; a few do one specific wrong thing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liar.h"
#include "hooks.h"

#define U64(arg, off) ((uint64_t *)((char *)(arg) + (off)))

/* Where the fields of each range ioctl's argument are. */
struct op {
	unsigned long cmd;
	int start, len, mode, out, src;	/* offsets, -1: none */
	uint64_t dontwake;
};

#define RANGE_OP(c, type, outf, dw) {					\
	c, offsetof(type, range.start), offsetof(type, range.len),	\
	offsetof(type, mode), outf, -1, dw }

static const struct op ops[] = {
	{ UFFDIO_COPY, offsetof(struct uffdio_copy, dst),
	  offsetof(struct uffdio_copy, len), offsetof(struct uffdio_copy, mode),
	  offsetof(struct uffdio_copy, copy), offsetof(struct uffdio_copy, src),
	  UFFDIO_COPY_MODE_DONTWAKE },
	{ UFFDIO_MOVE, offsetof(struct uffdio_move, dst),
	  offsetof(struct uffdio_move, len), offsetof(struct uffdio_move, mode),
	  offsetof(struct uffdio_move, move), offsetof(struct uffdio_move, src),
	  UFFDIO_MOVE_MODE_DONTWAKE },
	RANGE_OP(UFFDIO_ZEROPAGE, struct uffdio_zeropage,
		 offsetof(struct uffdio_zeropage, zeropage),
		 UFFDIO_ZEROPAGE_MODE_DONTWAKE),
	RANGE_OP(UFFDIO_CONTINUE, struct uffdio_continue,
		 offsetof(struct uffdio_continue, mapped),
		 UFFDIO_CONTINUE_MODE_DONTWAKE),
	RANGE_OP(UFFDIO_POISON, struct uffdio_poison,
		 offsetof(struct uffdio_poison, updated),
		 UFFDIO_POISON_MODE_DONTWAKE),
	RANGE_OP(UFFDIO_WRITEPROTECT, struct uffdio_writeprotect, -1,
		 UFFDIO_WRITEPROTECT_MODE_DONTWAKE),
	RANGE_OP(UFFDIO_REGISTER, struct uffdio_register,
		 offsetof(struct uffdio_register, ioctls), 0),
	{ UFFDIO_UNREGISTER, 0, 8, -1, -1, -1, 0 },
	{ UFFDIO_WAKE, 0, 8, -1, -1, -1, 0 },
};

static const struct op *op_of(unsigned long cmd)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].cmd == cmd)
			return &ops[i];
	return NULL;
}

static uint64_t field(void *arg, int off)
{
	return off < 0 ? 0 : *U64(arg, off);
}

static int real(int fd, unsigned long cmd, void *arg)
{
	return liar_real_ioctl(fd, cmd, arg);
}

/* The mode the lie applies to: every bit of @a given, no bit of @b. */
static bool mode_matches(const struct op *o, void *arg, uint64_t a,
			 uint64_t b)
{
	uint64_t mode = field(arg, o->mode);

	return (mode & a) == a && !(mode & b);
}

/*
 * A hook that changes the call itself says so before making it: the
 * changed call may block its caller for good (a thread nobody wakes), and
 * the announcement must reach the test's TAP before the test is killed.
 */

/* --- mode bits, wake ----------------------------------------------------- */

/* Make the call with the u64 at @off set to @value, then put it back. */
static int with_field(const struct lie *l, int fd, unsigned long cmd,
		      void *arg, int off, uint64_t value, const char *what)
{
	uint64_t *f = U64(arg, off), old = *f;
	int ret;

	*f = value;
	/* Before the call: a lie may leave its caller blocked in it. */
	liar_fired(l, what, value);
	ret = real(fd, cmd, arg);
	*f = old;
	return ret;
}

/* Call with @set added to and @clear taken from the mode. */
static int with_mode(const struct lie *l, int fd, unsigned long cmd,
		     void *arg, uint64_t set, uint64_t clear)
{
	const struct op *o = op_of(cmd);
	uint64_t old;

	if (!o || o->mode < 0)
		return real(fd, cmd, arg);
	old = field(arg, o->mode);
	if ((old | set) == old && !(old & clear))
		return real(fd, cmd, arg);
	return with_field(l, fd, cmd, arg, o->mode, (old | set) & ~clear,
			  "mode");
}

/* a: bits to add (0: the op's DONTWAKE); only when the mode has no bit of b. */
int hook_mode_set(const struct lie *l, struct fd_state *st, int fd,
		  unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);

	(void)st;
	if (!o || !mode_matches(o, arg, 0, l->b))
		return real(fd, cmd, arg);
	return with_mode(l, fd, cmd, arg, l->a ? l->a : o->dontwake, 0);
}

/* a: bits to drop (0: the op's DONTWAKE). */
int hook_mode_clear(const struct lie *l, struct fd_state *st, int fd,
		    unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);

	(void)st;
	if (!o)
		return real(fd, cmd, arg);
	return with_mode(l, fd, cmd, arg, 0, l->a ? l->a : o->dontwake);
}

/* --- pretending ------------------------------------------------------------ */

/*
 * Do nothing and answer success, the output field saying the whole length
 * was done. Only for modes with every bit of a and none of b.
 */
int hook_pretend(const struct lie *l, struct fd_state *st, int fd,
		 unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);

	(void)st;
	if (!o || !mode_matches(o, arg, l->a, l->b))
		return real(fd, cmd, arg);
	if (o->out >= 0)
		*U64(arg, o->out) = field(arg, o->len);
	liar_fired(l, "pretended", field(arg, o->start));
	return 0;
}

/* Answer success without acting when the range spans more than a page. */
int hook_multipage_noop(const struct lie *l, struct fd_state *st, int fd,
			unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);
	uint64_t start;

	(void)st;
	if (!o)
		return real(fd, cmd, arg);
	start = field(arg, o->start);
	if (field(arg, o->len) <= vma_page(start))
		return real(fd, cmd, arg);
	liar_fired(l, "multi-page no-op", start);
	return 0;
}

/* Act on a shorter range: a = 1 only the first page, else all but the last. */
int hook_range_shorter(const struct lie *l, struct fd_state *st, int fd,
		       unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);
	uint64_t len;
	size_t page;

	(void)st;
	if (!o)
		return real(fd, cmd, arg);
	len = field(arg, o->len);
	page = vma_page(field(arg, o->start));
	if (len <= page)
		return real(fd, cmd, arg);
	return with_field(l, fd, cmd, arg, o->len,
			  l->a == 1 ? page : len - page, "shortened to");
}

/* --- output fields, errnos ----------------------------------------------- */

/*
 * When the real call returns -b (0: success), set the output field: to
 * 0, or (c = 1) to the length plus one page.
 */
int hook_field(const struct lie *l, struct fd_state *st, int fd,
	       unsigned long cmd, void *arg)
{
	const struct op *o = op_of(cmd);
	int ret = real(fd, cmd, arg);
	uint64_t v = 0;

	(void)st;
	if (!o || o->out < 0 || ret != -(int)l->b)
		return ret;
	if (l->c == 1)
		v = field(arg, o->len) + vma_page(field(arg, o->start));
	*U64(arg, o->out) = v;
	liar_fired(l, "field", v);
	return ret;
}

/* Errno a becomes b (0: success), leaving the output field as it was. */
int hook_errno(const struct lie *l, struct fd_state *st, int fd,
	       unsigned long cmd, void *arg)
{
	int ret = real(fd, cmd, arg);

	(void)st;
	if (ret != -(int)l->a)
		return ret;
	liar_fired(l, "errno", cmd);
	return -(int)l->b;
}

int create_errno(const struct lie *l, int flags, int devfd)
{
	int ret = liar_real_create(flags, devfd);

	if (ret != -(int)l->a)
		return ret;
	liar_fired(l, "create errno", (uint64_t)flags);
	return -(int)l->b;
}

/* --- refusals with an effect, wrong effects -------------------------------- */

/* COPY refused with errno b writes the source bytes anyway. */
int hook_copy_writes_on(const struct lie *l, struct fd_state *st, int fd,
			unsigned long cmd, void *arg)
{
	struct uffdio_copy *c = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (ret == -(int)l->b &&
	    touch_write(c->dst, (const void *)(uintptr_t)c->src, 0, c->len))
		liar_fired(l, "wrote anyway", c->dst);
	return ret;
}

/* A successful COPY places one wrong byte (the last of the range). */
int hook_copy_wrong_byte(const struct lie *l, struct fd_state *st, int fd,
			 unsigned long cmd, void *arg)
{
	struct uffdio_copy *c = arg;
	uintptr_t last = c->dst + c->len - 1;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (ret || !c->len || !safe_to_touch(last, 1, true))
		return ret;
	*(volatile char *)last ^= 0x01;
	liar_fired(l, "flipped", last);
	return ret;
}

/* A successful ZEROPAGE leaves a non-zero byte at the end of the range. */
int hook_zeropage_nonzero(const struct lie *l, struct fd_state *st, int fd,
			  unsigned long cmd, void *arg)
{
	struct uffdio_zeropage *z = arg;
	uintptr_t last = z->range.start + z->range.len - 1;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && z->range.len && touch_write(last, NULL, 0x5a, 1))
		liar_fired(l, "dirtied", last);
	return ret;
}

/* A ZEROPAGE refused with ENOENT maps the range anyway (reads fault it in). */
int hook_zeropage_enoent_maps(const struct lie *l, struct fd_state *st,
			      int fd, unsigned long cmd, void *arg)
{
	struct uffdio_zeropage *z = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (ret == -ENOENT && touch_read(z->range.start, z->range.len))
		liar_fired(l, "mapped anyway", z->range.start);
	return ret;
}

/* MOVE copies instead: the destination is filled, the source stays. */
int hook_move_as_copy(const struct lie *l, struct fd_state *st, int fd,
		      unsigned long cmd, void *arg)
{
	struct uffdio_move *m = arg;
	struct uffdio_copy c = {
		.dst = m->dst, .src = m->src, .len = m->len,
		.mode = m->mode & UFFDIO_MOVE_MODE_DONTWAKE ?
			UFFDIO_COPY_MODE_DONTWAKE : 0,
	};
	int ret;

	(void)st;
	(void)cmd;
	liar_fired(l, "copied", m->dst);
	ret = real(fd, UFFDIO_COPY, &c);
	m->move = c.copy;
	return ret;
}

/* MOVE refused with EEXIST still empties (zeroes) the source. */
int hook_move_eexist_clobbers(const struct lie *l, struct fd_state *st,
			      int fd, unsigned long cmd, void *arg)
{
	struct uffdio_move *m = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (ret == -EEXIST && touch_write(m->src, NULL, 0, m->len))
		liar_fired(l, "zeroed source", m->src);
	return ret;
}

/* POISON places zero bytes (a COPY) instead of a poison marker. */
int hook_poison_as_data(const struct lie *l, struct fd_state *st, int fd,
			unsigned long cmd, void *arg)
{
	struct uffdio_poison *p = arg;
	struct uffdio_copy c = {
		.dst = p->range.start, .len = p->range.len,
		.mode = p->mode & UFFDIO_POISON_MODE_DONTWAKE ?
			UFFDIO_COPY_MODE_DONTWAKE : 0,
	};
	void *zeros;
	int ret;

	(void)st;
	zeros = mmap(NULL, p->range.len ? p->range.len : 1, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zeros == MAP_FAILED)
		return real(fd, cmd, arg);
	c.src = (uintptr_t)zeros;
	liar_fired(l, "data instead of poison", p->range.start);
	ret = real(fd, UFFDIO_COPY, &c);
	p->updated = c.copy;
	munmap(zeros, p->range.len ? p->range.len : 1);
	return ret;
}

/*
 * Ranges this process un-protected (the first few): a re-protection of
 * any of them is the lie's business. Shared by every uffd of the process.
 */
#define UNPROTECTED_MAX 16
static struct { uint64_t start, end; } unprotected[UNPROTECTED_MAX];
static int nunprotected;

/* WRITEPROTECT does nothing (answers success) on a range it un-protected. */
int hook_wp_reprotect_noop(const struct lie *l, struct fd_state *st, int fd,
			   unsigned long cmd, void *arg)
{
	struct uffdio_writeprotect *w = arg;
	uint64_t start = w->range.start, end = start + w->range.len;
	int i, ret;

	(void)st;
	if (!(w->mode & UFFDIO_WRITEPROTECT_MODE_WP)) {
		ret = real(fd, cmd, arg);
		if (!ret && nunprotected < UNPROTECTED_MAX) {
			unprotected[nunprotected].start = start;
			unprotected[nunprotected].end = end;
			nunprotected++;
		}
		return ret;
	}
	for (i = 0; i < nunprotected; i++) {
		if (start < unprotected[i].end && unprotected[i].start < end) {
			liar_fired(l, "re-protection ignored", start);
			return 0;
		}
	}
	return real(fd, cmd, arg);
}

/* A COPY through a child's uffd (from a FORK event) answers EEXIST. */
int hook_forked_copy_eexist(const struct lie *l, struct fd_state *st,
			    int fd, unsigned long cmd, void *arg)
{
	struct uffdio_copy *c = arg;

	if (st->kind != FD_FORKED)
		return real(fd, cmd, arg);
	c->copy = -EEXIST;
	liar_fired(l, "child COPY refused", c->dst);
	return -EEXIST;
}

/* --- registration ---------------------------------------------------------- */

/* Clear the ioctl bits a from a successful REGISTER's answer. */
int hook_reg_ioctls_clear(const struct lie *l, struct fd_state *st, int fd,
			  unsigned long cmd, void *arg)
{
	struct uffdio_register *r = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && (r->ioctls & l->a)) {
		r->ioctls &= ~l->a;
		liar_fired(l, "ioctls", r->ioctls);
	}
	return ret;
}

/* Add the ioctl bits a to the answer, unless the mode has a bit of b. */
int hook_reg_ioctls_add(const struct lie *l, struct fd_state *st, int fd,
			unsigned long cmd, void *arg)
{
	struct uffdio_register *r = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && !(r->mode & l->b) && (r->ioctls & l->a) != l->a) {
		r->ioctls |= l->a;
		liar_fired(l, "ioctls", r->ioctls);
	}
	return ret;
}

/*
 * Register without mode bit a (MISSING if nothing is left), but answer
 * as if it were there: its ioctl bits c are added to the answer.
 */
int hook_reg_drop_mode(const struct lie *l, struct fd_state *st, int fd,
		       unsigned long cmd, void *arg)
{
	struct uffdio_register *r = arg;
	uint64_t old = r->mode;
	int ret;

	(void)st;
	if (!(old & l->a))
		return real(fd, cmd, arg);
	r->mode &= ~l->a;
	if (!r->mode)
		r->mode = UFFDIO_REGISTER_MODE_MISSING;
	liar_fired(l, "mode dropped", old);
	ret = real(fd, cmd, arg);
	r->mode = old;
	if (!ret)
		r->ioctls |= (uint64_t)l->c;
	return ret;
}

/* REGISTER answers like the kernel, then the range is unregistered again. */
int hook_reg_undone(const struct lie *l, struct fd_state *st, int fd,
		    unsigned long cmd, void *arg)
{
	struct uffdio_register *r = arg;
	struct uffdio_range range = r->range;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && !real(fd, UFFDIO_UNREGISTER, &range))
		liar_fired(l, "unregistered again", range.start);
	return ret;
}
