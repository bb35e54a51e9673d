// SPDX-License-Identifier: GPL-2.0
/*
 * faultline liar: hooks on the handshake (UFFDIO_API), on creation, and on
 * the messages read() delivers.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liar.h"
#include "hooks.h"

static int real(int fd, unsigned long cmd, void *arg)
{
	return liar_real_ioctl(fd, cmd, arg);
}

/* What the kernel writes back when it refuses UFFDIO_API: all zeros. */
static int api_refused(struct uffdio_api *api, int err)
{
	memset(api, 0, sizeof(*api));
	return -err;
}

/* The features this kernel reports, on a throwaway uffd (cached). */
static uint64_t kernel_features(void)
{
	static uint64_t features;
	static bool known;
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	if (known)
		return features;
	fd = liar_real_create(O_CLOEXEC | O_NONBLOCK, -1);
	if (fd < 0)
		fd = liar_real_create(O_CLOEXEC | O_NONBLOCK |
				      UFFD_USER_MODE_ONLY, -1);
	if (fd < 0)
		return 0;
	if (!real(fd, UFFDIO_API, &api)) {
		features = api.features;
		known = true;
	}
	liar_real_close(fd);
	return features;
}

/* --- UFFDIO_API ------------------------------------------------------------ */

/* A successful answer lacks the lowest feature bit that was asked for. */
int hook_api_drops_asked(const struct lie *l, struct fd_state *st, int fd,
			 unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	uint64_t asked = api->features;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && asked) {
		api->features &= ~(asked & -asked);
		liar_fired(l, "dropped", asked & -asked);
	}
	return ret;
}

/* Feature bits the kernel does not know are accepted (stripped). */
int hook_api_accepts_unknown(const struct lie *l, struct fd_state *st,
			     int fd, unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	uint64_t extra = api->features & ~kernel_features();
	int ret;

	(void)st;
	if (!extra || !kernel_features())
		return real(fd, cmd, arg);
	api->features &= ~extra;
	liar_fired(l, "accepted", extra);
	ret = real(fd, cmd, arg);
	return ret;
}

/* A second UFFDIO_API succeeds, repeating the first answer. */
int hook_api_twice_ok(const struct lie *l, struct fd_state *st, int fd,
		      unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	int ret = real(fd, cmd, arg);

	if (ret != -EINVAL || !st->api_done)
		return ret;
	api->api = UFFD_API;
	api->features = st->api_reply[0];
	api->ioctls = st->api_reply[1];
	liar_fired(l, "second API ok", st->features);
	return 0;
}

/* A successful answer says no ioctl is available. */
int hook_api_ioctls_zero(const struct lie *l, struct fd_state *st, int fd,
			 unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	int ret = real(fd, cmd, arg);

	(void)st;
	if (!ret && api->ioctls) {
		api->ioctls = 0;
		liar_fired(l, "ioctls", 0);
	}
	return ret;
}

/* Asking for any feature of a is refused with errno b. */
int hook_api_refuse(const struct lie *l, struct fd_state *st, int fd,
		    unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;

	(void)st;
	if (!(api->features & l->a))
		return real(fd, cmd, arg);
	liar_fired(l, "refused", api->features);
	return api_refused(api, (int)l->b);
}

/* The features a are accepted and reported, but not enabled. */
int hook_api_ignores(const struct lie *l, struct fd_state *st, int fd,
		     unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	uint64_t asked = api->features;
	int ret;

	(void)st;
	if (!(asked & l->a))
		return real(fd, cmd, arg);
	api->features &= ~l->a;
	liar_fired(l, "not enabled", asked & l->a);
	ret = real(fd, cmd, arg);
	if (!ret)
		api->features |= asked & l->a;
	return ret;
}

/* A future kernel: feature bit a is reported and accepted. */
int hook_api_future_bit(const struct lie *l, struct fd_state *st, int fd,
			unsigned long cmd, void *arg)
{
	struct uffdio_api *api = arg;
	int ret;

	(void)st;
	api->features &= ~l->a;
	ret = real(fd, cmd, arg);
	if (!ret) {
		api->features |= l->a;
		liar_fired(l, "future bit", l->a);
	}
	return ret;
}

/*
 * A kernel without features a (and their ioctls, bit numbers in b, and
 * register modes c): the API neither reports nor accepts them, REGISTER
 * neither offers those ioctls nor accepts those modes, and the ioctls are
 * EINVAL, as for any command the kernel does not know.
 */
int hook_hide(const struct lie *l, struct fd_state *st, int fd,
	      unsigned long cmd, void *arg)
{
	int ret;

	(void)st;
	if (cmd == UFFDIO_API) {
		struct uffdio_api *api = arg;

		if (api->features & l->a) {
			liar_fired(l, "API refused", api->features);
			return api_refused(api, EINVAL);
		}
		ret = real(fd, cmd, arg);
		if (!ret)
			api->features &= ~l->a;
		return ret;
	}
	if (l->b & (1ULL << _IOC_NR(cmd))) {
		liar_fired(l, "unknown ioctl", cmd);
		return -EINVAL;
	}
	if (cmd != UFFDIO_REGISTER)
		return real(fd, cmd, arg);
	if (((struct uffdio_register *)arg)->mode & (uint64_t)l->c) {
		liar_fired(l, "mode refused", (uint64_t)l->c);
		return -EINVAL;
	}
	ret = real(fd, cmd, arg);
	if (!ret)
		((struct uffdio_register *)arg)->ioctls &= ~l->b;
	return ret;
}

/* Before any UFFDIO_API, an EINVAL ioctl gets a hidden handshake and a retry. */
int hook_before_api_ok(const struct lie *l, struct fd_state *st, int fd,
		       unsigned long cmd, void *arg)
{
	struct uffdio_api api = { .api = UFFD_API };
	int ret = real(fd, cmd, arg);

	if (ret != -EINVAL || cmd == UFFDIO_API || st->api_done)
		return ret;
	if (real(fd, UFFDIO_API, &api))
		return ret;
	st->api_done = true;
	st->api_reply[0] = api.features;
	st->api_reply[1] = api.ioctls;
	liar_fired(l, "hidden handshake", cmd);
	return real(fd, cmd, arg);
}

/* --- creation ------------------------------------------------------------ */

/* Creation flags a are ignored, on every path. */
int create_strip(const struct lie *l, int flags, int devfd)
{
	if (flags & (int)l->a) {
		flags &= ~(int)l->a;
		liar_fired(l, "flags ignored", l->a);
	}
	return liar_real_create(flags, devfd);
}

/* USERFAULTFD_IOC_NEW on /dev/userfaultfd is refused with errno b. */
int create_dev_refused(const struct lie *l, int flags, int devfd)
{
	if (devfd < 0)
		return liar_real_create(flags, devfd);
	liar_fired(l, "IOC_NEW refused", (uint64_t)flags);
	return -(int)l->b;
}

/* --- messages ------------------------------------------------------------ */

static bool is_fault(const struct uffd_msg *m)
{
	return m->event == UFFD_EVENT_PAGEFAULT;
}

/* The fault address is a off (a base page when a is 0). */
int msg_address_shift(const struct lie *l, struct fd_state *st, int fd,
		      struct uffd_msg *m)
{
	(void)st;
	(void)fd;
	if (is_fault(m)) {
		m->arg.pagefault.address += l->a ? l->a : (uint64_t)getpagesize();
		liar_fired(l, "address", m->arg.pagefault.address);
	}
	return 1;
}

/* EXACT_ADDRESS asked for, the address is masked to the page anyway. */
int msg_exact_masked(const struct lie *l, struct fd_state *st, int fd,
		     struct uffd_msg *m)
{
	uint64_t page = (uint64_t)getpagesize();

	(void)fd;
	if (is_fault(m) && (st->features & UFFD_FEATURE_EXACT_ADDRESS) &&
	    (m->arg.pagefault.address & (page - 1))) {
		m->arg.pagefault.address &= ~(page - 1);
		liar_fired(l, "masked", m->arg.pagefault.address);
	}
	return 1;
}

/* Fault flag a cleared (b = 0) or set (b = 1) where it was the other way. */
int msg_flag(const struct lie *l, struct fd_state *st, int fd,
	     struct uffd_msg *m)
{
	uint64_t flags = m->arg.pagefault.flags;

	(void)st;
	(void)fd;
	if (!is_fault(m) || !!(flags & l->a) == (l->b == 1))
		return 1;
	m->arg.pagefault.flags = flags ^ l->a;
	liar_fired(l, "flags", flags ^ l->a);
	return 1;
}

/* ptid: 0 although THREAD_ID was asked for (b = 0), or filled unasked (b = 1). */
int msg_ptid(const struct lie *l, struct fd_state *st, int fd,
	     struct uffd_msg *m)
{
	bool asked = st->features & UFFD_FEATURE_THREAD_ID;

	(void)fd;
	if (!is_fault(m) || asked == (l->b == 1))
		return 1;
	m->arg.pagefault.feat.ptid = l->b == 1 ? (uint32_t)syscall(SYS_gettid) : 0;
	liar_fired(l, "ptid", m->arg.pagefault.feat.ptid);
	return 1;
}

/* FORK delivers a second descriptor of the parent's uffd, not the child's. */
int msg_fork_parent(const struct lie *l, struct fd_state *st, int fd,
		    struct uffd_msg *m)
{
	int dup;

	if (m->event != UFFD_EVENT_FORK)
		return 1;
	dup = liar_real_dup(fd);
	if (dup < 0)
		return 1;
	liar_untrack((int)m->arg.fork.ufd);
	liar_real_close((int)m->arg.fork.ufd);
	liar_track(dup, FD_UFFD, st);
	m->arg.fork.ufd = (uint32_t)dup;
	liar_fired(l, "parent fd", (uint64_t)dup);
	return 1;
}

/* The u64 at offset b of an event a message is off by c (0: a page). */
int msg_event_field(const struct lie *l, struct fd_state *st, int fd,
		    struct uffd_msg *m)
{
	uint64_t f;

	(void)st;
	(void)fd;
	if (m->event != l->a)
		return 1;
	/* The message is packed: copy the field out and back. */
	memcpy(&f, (char *)m + l->b, sizeof(f));
	f += l->c ? (uint64_t)l->c : (uint64_t)getpagesize();
	memcpy((char *)m + l->b, &f, sizeof(f));
	liar_fired(l, "field", f);
	return 1;
}

/* Event a is delivered labelled as event b. */
int msg_relabel(const struct lie *l, struct fd_state *st, int fd,
		struct uffd_msg *m)
{
	(void)st;
	(void)fd;
	if (m->event != l->a)
		return 1;
	m->event = (uint8_t)l->b;
	liar_fired(l, "relabelled", l->a);
	return 1;
}

/* The first message of every uffd is lost. */
int msg_drop_first(const struct lie *l, struct fd_state *st, int fd,
		   struct uffd_msg *m)
{
	(void)fd;
	if (st->dropped)
		return 1;
	st->dropped = true;
	liar_fired(l, "dropped", m->event);
	return 0;
}

/* Every non-cooperative event (not a fault) is delivered twice. */
int msg_dup_events(const struct lie *l, struct fd_state *st, int fd,
		   struct uffd_msg *m)
{
	(void)st;
	(void)fd;
	if (is_fault(m))
		return 1;
	liar_fired(l, "duplicated", m->event);
	return 2;
}
