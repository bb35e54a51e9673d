// SPDX-License-Identifier: GPL-2.0
/*
 * The UFFDIO_API handshake contract: nothing works before it, it works
 * once, bad requests are refused and what the kernel writes back, the
 * features enabled are the ones asked for, and the fd's own flags.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ksft_case.h"

#define NPAGES 2
/* Written into output fields so "left untouched" can be told apart. */
#define POISON_U64 0x5a5a5a5a5a5a5a5aULL

FIXTURE(api) {
	int fd;			/* no handshake yet */
	char *mem;
	size_t page;
	uint64_t kfeatures;	/* what the kernel offers */
	uint64_t kioctls;
};

/* Every test runs on each creation path; unavailable paths skip. */
FIXTURE_VARIANT(api) {
	enum uffd_path path;
};

FIXTURE_VARIANT_ADD(api, syscall) { .path = UFFD_PATH_SYSCALL };
FIXTURE_VARIANT_ADD(api, user_mode_only) {
	.path = UFFD_PATH_SYSCALL_USER_ONLY
};
FIXTURE_VARIANT_ADD(api, dev) { .path = UFFD_PATH_DEV };

/*
 * Why @path may be missing here, when @err (of @step for the device: its
 * "open", or the "ioctl" asking it for a uffd) says the path is absent or
 * denied by policy; NULL when the error is the kernel's fault.
 */
static const char *creation_skip_reason(enum uffd_path path, int err,
					const char *step)
{
	static char buf[200];

	switch (path) {
	case UFFD_PATH_DEV:
		/* Only opening the node may fail for a reason of policy. */
		if (strcmp(step, "open"))
			return NULL;
		if (err != -ENOENT && err != -ENXIO && err != -ENODEV &&
		    err != -EACCES && err != -EPERM)
			return NULL;
		snprintf(buf, sizeof(buf), "/dev/userfaultfd: open: %s (%s)",
			 strerror(-err), err == -EACCES || err == -EPERM ?
			 "denied by the node's mode or a security policy" :
			 "no such device here");
		return buf;
	case UFFD_PATH_SYSCALL_USER_ONLY:
		if (err != -EINVAL && err != -ENOSYS && err != -EPERM)
			return NULL;
		snprintf(buf, sizeof(buf), "%s: %s", uffd_path_name(path),
			 fl_user_mode_only_reason(err));
		return buf;
	default:
		if (err != -ENOSYS && err != -EPERM)
			return NULL;
		snprintf(buf, sizeof(buf), "%s: %s", uffd_path_name(path),
			 fl_no_uffd_reason(err));
		return buf;
	}
}

/*
 * A uffd through @path with @flags; a skip only when the path is absent or
 * denied by policy (creation_skip_reason), otherwise a failure.
 */
static int create_or_skip(struct __test_metadata *_metadata,
			  enum uffd_path path, int flags)
{
	const char *step = "syscall";
	int fd = path == UFFD_PATH_DEV ? uffd_dev_open(NULL, flags, &step) :
		 uffd_create_exact(path, flags);

	if (fd >= 0)
		return fd;
	FL_SKIP_IF(creation_skip_reason(path, fd, step));
	ASSERT_LE(0, fd) {
		TH_LOG("%s: %s failed: %s", uffd_path_name(path), step,
		       strerror(-fd));
	}
	return fd;
}

FIXTURE_SETUP(api)
{
	int err = fl_kernel_features(&self->kfeatures, &self->kioctls);

	self->fd = -1;
	if (err)
		FL_SKIP("%s", fl_no_uffd_reason(err));
	self->fd = create_or_skip(_metadata, variant->path,
				  O_CLOEXEC | O_NONBLOCK);
	self->page = sysconf(_SC_PAGESIZE);
	self->mem = mmap(NULL, NPAGES * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(api)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, NPAGES * self->page);
}

static int do_api(int fd, uint64_t features, struct uffdio_api *out)
{
	*out = (struct uffdio_api){ .api = UFFD_API, .features = features,
				    .ioctls = POISON_U64 };
	return uffd_api(fd, out);
}

/* Every range ioctl, with arguments that would be valid after the API. */
static int call_ioctl(int fd, unsigned int nr, char *mem, size_t page)
{
	uint64_t m = (uintptr_t)mem;
	union {
		struct uffdio_register reg;
		struct uffdio_range range;
		struct uffdio_copy copy;
		struct uffdio_zeropage zp;
		struct uffdio_writeprotect wp;
		struct uffdio_continue cont;
		struct uffdio_poison poison;
		struct uffdio_move move;
	} a;

	memset(&a, 0, sizeof(a));
	switch (nr) {
	case _UFFDIO_REGISTER:
		a.reg = (struct uffdio_register){ { m, page },
			UFFDIO_REGISTER_MODE_MISSING, 0 };
		return uffd_register(fd, &a.reg);
	case _UFFDIO_UNREGISTER:
		a.range = (struct uffdio_range){ m, page };
		return uffd_unregister(fd, &a.range);
	case _UFFDIO_WAKE:
		a.range = (struct uffdio_range){ m, page };
		return uffd_wake(fd, &a.range);
	case _UFFDIO_COPY:
		a.copy = (struct uffdio_copy){ m, m + page, page, 0, 0 };
		return uffd_copy(fd, &a.copy);
	case _UFFDIO_ZEROPAGE:
		a.zp = (struct uffdio_zeropage){ { m, page }, 0, 0 };
		return uffd_zeropage(fd, &a.zp);
	case _UFFDIO_WRITEPROTECT:
		a.wp = (struct uffdio_writeprotect){ { m, page }, 0 };
		return uffd_writeprotect(fd, &a.wp);
	case _UFFDIO_CONTINUE:
		a.cont = (struct uffdio_continue){ { m, page }, 0, 0 };
		return uffd_continue(fd, &a.cont);
	case _UFFDIO_POISON:
		a.poison = (struct uffdio_poison){ { m, page }, 0, 0 };
		return uffd_poison(fd, &a.poison);
	case _UFFDIO_MOVE:
		a.move = (struct uffdio_move){ m, m + page, page, 0, 0 };
		return uffd_move(fd, &a.move);
	}
	return -ENOTTY;
}

static const unsigned int range_ioctls[] = {
	_UFFDIO_REGISTER, _UFFDIO_UNREGISTER, _UFFDIO_WAKE, _UFFDIO_COPY,
	_UFFDIO_ZEROPAGE, _UFFDIO_WRITEPROTECT, _UFFDIO_CONTINUE,
	_UFFDIO_POISON, _UFFDIO_MOVE,
};

/* Before UFFDIO_API every other ioctl is EINVAL; the API then still works. */
TEST_F(api, ioctls_before_api)
{
	struct uffdio_api api;
	size_t i;

	for (i = 0; i < sizeof(range_ioctls) / sizeof(range_ioctls[0]); i++) {
		unsigned int nr = range_ioctls[i];

		EXPECT_EQ(-EINVAL, call_ioctl(self->fd, nr, self->mem,
					      self->page))
			TH_LOG("UFFDIO_%s before UFFDIO_API",
			       uffd_ioctl_name(nr));
	}
	/* The refusals did not consume the handshake. */
	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	/* The same REGISTER is accepted now: the EINVAL was the handshake. */
	EXPECT_EQ(0, call_ioctl(self->fd, _UFFDIO_REGISTER, self->mem,
				self->page));
	EXPECT_EQ(0, call_ioctl(self->fd, _UFFDIO_UNREGISTER, self->mem,
				self->page));
}

/* read() before the handshake is EINVAL; after it, an empty queue EAGAIN. */
TEST_F(api, read_before_api)
{
	struct uffd_msg msg;
	struct uffdio_api api;

	EXPECT_EQ(-1, read(self->fd, &msg, sizeof(msg)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	EXPECT_EQ(-1, read(self->fd, &msg, sizeof(msg)));
	EXPECT_EQ(EAGAIN, errno);
}

/* poll() before the handshake reports POLLERR; after it, nothing. */
TEST_F(api, poll_before_api)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	struct uffdio_api api;

	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLERR) TH_LOG("revents 0x%x", p.revents);
	EXPECT_FALSE(p.revents & POLLIN);
	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0)) TH_LOG("revents 0x%x", p.revents);
}

/*
 * A successful handshake: api echoed, every feature the kernel has
 * reported (not only the requested ones), and the fd-level ioctl mask.
 */
TEST_F(api, handshake_reply)
{
	const uint64_t fd_ioctls = uffd_ioctl_mask(false);
	const uint64_t range_only = uffd_ioctl_mask(true);
	const uint64_t unknown = ~uffd_known_features();
	struct uffdio_api api;

	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	EXPECT_EQ(UFFD_API, api.api);
	EXPECT_EQ(self->kfeatures, api.features);
	EXPECT_EQ(fd_ioctls, api.ioctls & fd_ioctls);
	EXPECT_EQ(0, api.ioctls & range_only)
		TH_LOG("range ioctls in the fd mask: 0x%llx",
		       (unsigned long long)api.ioctls);
	if (api.ioctls & ~(fd_ioctls | range_only))
		ksft_print_msg("finding: UFFDIO_API ioctl mask has unknown bits 0x%llx\n",
			       (unsigned long long)(api.ioctls & ~fd_ioctls));
	if (api.features & unknown)
		ksft_print_msg("finding: kernel reports unknown feature bits 0x%llx\n",
			       (unsigned long long)(api.features & unknown));
}

/* A second handshake is EINVAL and does not change the enabled features. */
TEST_F(api, api_twice)
{
	struct uffdio_api api;
	int ret;

	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	api = (struct uffdio_api){ .api = UFFD_API, .features = 0,
				   .ioctls = POISON_U64 };
	ret = uffd_api(self->fd, &api);
	EXPECT_EQ(-EINVAL, ret);
	if (api.ioctls == POISON_U64) {
		ksft_print_msg("finding: second UFFDIO_API leaves the struct untouched\n");
	} else {
		/* Newer kernels zero the whole reply on any refusal. */
		EXPECT_EQ(0, api.api);
		EXPECT_EQ(0, api.features);
		EXPECT_EQ(0, api.ioctls);
		ksft_print_msg("finding: second UFFDIO_API zeroes the struct (api/features/ioctls = 0)\n");
	}
	/* The fd still works as initialized by the first handshake. */
	EXPECT_EQ(0, call_ioctl(self->fd, _UFFDIO_REGISTER, self->mem,
				self->page));
}

/* The second handshake cannot switch THREAD_ID on after the fact. */
TEST_F_TIMEOUT(api, api_twice_keeps_features, 5)
{
	struct uffdio_api api;
	struct uffd_msg msg;
	struct toucher t;

	FL_REQUIRE_REPORTED(self->kfeatures, UFFD_FEATURE_THREAD_ID);
	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	EXPECT_EQ(-EINVAL, do_api(self->fd, UFFD_FEATURE_THREAD_ID, &api));
	ASSERT_EQ(0, uffd_register_range(self->fd, self->mem, self->page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	ASSERT_EQ(0, toucher_start(&t, self->mem, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->fd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ(0, msg.arg.pagefault.feat.ptid);
	ASSERT_EQ(0, uffd_zeropage_all(self->fd, self->mem, self->page, 0,
				       NULL));
	FL_TOUCHER_DONE(&t);
}

/* Wrong api number: EINVAL, reply zeroed, the fd still uninitialized. */
TEST_F(api, bad_api_number)
{
	struct uffdio_api api = { .api = UFFD_API + 1, .features = 0,
				  .ioctls = POISON_U64 };
	struct uffd_msg msg;

	EXPECT_EQ(-EINVAL, uffd_api(self->fd, &api));
	EXPECT_EQ(0, api.api);
	EXPECT_EQ(0, api.features);
	EXPECT_EQ(0, api.ioctls);
	/* Still waiting for a handshake: read() is EINVAL, API works. */
	EXPECT_EQ(-1, read(self->fd, &msg, sizeof(msg)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, do_api(self->fd, 0, &api));
	EXPECT_EQ(UFFD_API, api.api);
}

/* Feature bits the kernel does not report: EINVAL and a zeroed reply. */
TEST_F(api, unknown_feature_bits)
{
	uint64_t unknown[2];
	struct uffdio_api api;
	int i;

	/* The lowest and the highest bit this kernel did not report. */
	unknown[0] = ~self->kfeatures & -~self->kfeatures;
	unknown[1] = 1ULL << 63;
	ASSERT_NE(0, unknown[0]);
	ASSERT_EQ(0, self->kfeatures & unknown[1]);
	for (i = 0; i < 2; i++) {
		api = (struct uffdio_api){ .api = UFFD_API,
			.features = unknown[i] | UFFD_FEATURE_THREAD_ID,
			.ioctls = POISON_U64 };
		EXPECT_EQ(-EINVAL, uffd_api(self->fd, &api))
			TH_LOG("features 0x%llx",
			       (unsigned long long)unknown[i]);
		EXPECT_EQ(0, api.api);
		EXPECT_EQ(0, api.features);
		EXPECT_EQ(0, api.ioctls);
	}
	/* Refusals leave the fd uninitialized: a good request still works. */
	EXPECT_EQ(0, do_api(self->fd, self->kfeatures &
			    UFFD_FEATURE_THREAD_ID, &api));
}

/* Fault on page 0 of @mem and return the message's ptid. */
static int fault_ptid(int fd, char *mem, size_t page, pid_t *ptid,
		      pid_t *tid)
{
	struct uffd_msg msg;
	struct toucher t;
	int ret;

	ret = uffd_register_range(fd, mem, page, UFFDIO_REGISTER_MODE_MISSING,
				  NULL);
	if (ret)
		return ret;
	ret = toucher_start(&t, mem, TOUCH_READ, 0);
	if (ret)
		return ret;
	ret = uffd_wait_msg(fd, &msg, 2000);
	if (!ret && msg.event != UFFD_EVENT_PAGEFAULT)
		ret = -EPROTO;
	*ptid = msg.arg.pagefault.feat.ptid;
	if (uffd_zeropage_all(fd, mem, page, 0, NULL) ||
	    !toucher_wait(&t, 2000))
		return -ETIMEDOUT;	/* the toucher is still blocked */
	toucher_join(&t);
	*tid = t.tid;
	return ret;
}

/* Only requested features are enabled: ptid is 0 unless THREAD_ID. */
TEST_F_TIMEOUT(api, features_as_requested, 5)
{
	struct uffdio_api api;
	pid_t ptid = -1, tid = 0;
	int fd2;

	FL_REQUIRE_REPORTED(self->kfeatures, UFFD_FEATURE_THREAD_ID);
	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	ASSERT_EQ(0, fault_ptid(self->fd, self->mem, self->page, &ptid, &tid));
	EXPECT_EQ(0, ptid) TH_LOG("ptid filled without %s",
				  UFFD_FEATURE_NAME(UFFD_FEATURE_THREAD_ID));

	fd2 = uffd_create_exact(variant->path, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, do_api(fd2, UFFD_FEATURE_THREAD_ID, &api));
	/* The reply lists everything the kernel has, not only what we asked. */
	EXPECT_EQ(self->kfeatures, api.features);
	ptid = -1;
	ASSERT_EQ(0, fault_ptid(fd2, self->mem + self->page, self->page,
				&ptid, &tid));
	EXPECT_EQ(tid, ptid);
	EXPECT_NE(0, ptid);
	close(fd2);
}

/* A read() buffer smaller than one message is EINVAL and consumes nothing. */
TEST_F_TIMEOUT(api, short_read, 5)
{
	struct uffdio_api api;
	struct uffd_msg msg;
	struct toucher t;
	char small[sizeof(msg) - 1];
	struct pollfd p = { .fd = self->fd, .events = POLLIN };

	ASSERT_EQ(0, do_api(self->fd, 0, &api));
	EXPECT_EQ(-1, read(self->fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, small, 0));
	EXPECT_EQ(EINVAL, errno);
	/* With a message queued: still EINVAL, and the message stays. */
	ASSERT_EQ(0, uffd_register_range(self->fd, self->mem, self->page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	ASSERT_EQ(0, toucher_start(&t, self->mem, TOUCH_READ, 0));
	ASSERT_EQ(1, poll(&p, 1, 2000));
	EXPECT_EQ(-1, read(self->fd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, uffd_read_msg(self->fd, &msg));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)self->mem, msg.arg.pagefault.address);
	ASSERT_EQ(0, uffd_zeropage_all(self->fd, self->mem, self->page, 0,
				       NULL));
	FL_TOUCHER_DONE(&t);
	/* Queue empty again: a non-blocking read is EAGAIN. */
	EXPECT_EQ(-EAGAIN, uffd_read_msg(self->fd, &msg));
}

struct flag_case {
	int flags;
	bool cloexec, nonblock;
};

static const struct flag_case flag_cases[] = {
	{ 0, false, false },
	{ O_CLOEXEC, true, false },
	{ O_NONBLOCK, false, true },
	{ O_CLOEXEC | O_NONBLOCK, true, true },
};

static void check_fd_flags(struct __test_metadata *_metadata, int fd,
			   const struct flag_case *fc, const char *path)
{
	char link[64], target[64] = "";
	int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	ASSERT_LE(0, fdfl);
	ASSERT_LE(0, fl);
	EXPECT_EQ(fc->cloexec, !!(fdfl & FD_CLOEXEC))
		TH_LOG("%s flags 0x%x: FD_CLOEXEC", path, fc->flags);
	EXPECT_EQ(fc->nonblock, !!(fl & O_NONBLOCK))
		TH_LOG("%s flags 0x%x: O_NONBLOCK", path, fc->flags);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	EXPECT_LT(0, readlink(link, target, sizeof(target) - 1));
	EXPECT_STREQ("anon_inode:[userfaultfd]", target);
}

/* O_CLOEXEC and O_NONBLOCK are honoured, each on its own. */
TEST_F(api, fd_flags)
{
	size_t i;

	for (i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		const struct flag_case *fc = &flag_cases[i];
		int fd = uffd_create_exact(variant->path, fc->flags);

		ASSERT_LE(0, fd) TH_LOG("flags 0x%x", fc->flags);
		check_fd_flags(_metadata, fd, fc,
			       uffd_path_name(variant->path));
		close(fd);
	}
}

/* Without O_NONBLOCK, read() waits for a message instead of EAGAIN. */
TEST_F_TIMEOUT(api, blocking_read_waits, 5)
{
	struct uffdio_api api;
	struct uffd_msg msg;
	struct toucher t;
	struct bg_read_args r = { .buf = &msg, .len = sizeof(msg) };
	struct bg_call bg;
	int fd = uffd_create_exact(variant->path, O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, do_api(fd, 0, &api));
	ASSERT_EQ(0, uffd_register_range(fd, self->mem, self->page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	r.fd = fd;
	ASSERT_EQ(0, bg_start(&bg, bg_read, &r));
	EXPECT_TRUE(fl_thread_held(&bg.th))
		TH_LOG("read() on an empty blocking uffd returned %ld", bg.ret);
	/* A fault ends the wait with that fault's message. */
	ASSERT_EQ(0, toucher_start(&t, self->mem, TOUCH_READ, 0));
	FL_THREAD_DONE(&bg.th);
	EXPECT_EQ((long)sizeof(msg), bg.ret) TH_LOG("errno %d", bg.err);
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)self->mem, msg.arg.pagefault.address);
	ASSERT_EQ(0, uffd_zeropage_all(fd, self->mem, self->page, 0, NULL));
	FL_TOUCHER_DONE(&t);
	close(fd);
}

/* Flags outside O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY: EINVAL. */
TEST_F(api, bad_create_flags)
{
	static const int bad[] = { O_RDWR, O_APPEND, O_TRUNC, 1 << 30, -1 };
	size_t i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int flags = bad[i];

		/* -1 on the plain syscall path would carry USER_MODE_ONLY. */
		if (variant->path == UFFD_PATH_SYSCALL)
			flags &= ~UFFD_USER_MODE_ONLY;
		fd = uffd_create_exact(variant->path, flags);
		EXPECT_EQ(-EINVAL, fd) TH_LOG("%s flags 0x%x",
					      uffd_path_name(variant->path),
					      flags);
		if (fd >= 0)
			close(fd);
	}
	/* The same path with valid flags works: the refusal is flag-driven. */
	fd = uffd_create_exact(variant->path, O_CLOEXEC | O_NONBLOCK);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

FL_TEST_MAIN(0)
