// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege gates: who may create a userfaultfd and what it may do.
 *
 * The test process stays as it is (root here); every probe runs in a
 * forked child that drops privilege first (harness/priv.c). Every gate is
 * checked in both directions by a pair of points, so a kernel that allows
 * everything or denies everything fails one of them.
 *
 * vm.unprivileged_userfaultfd is changed only by root, only around one
 * probe, and restored by the test process as soon as the probe exits, by
 * the fixture teardown if an assertion fails, and by handlers in the top
 * process at exit and on fatal signals (harness/sysctl.c).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "ksft_case.h"
#include "priv.h"
#include "sysctl.h"

#define NPAGES 2
#define PROBE_MS 5000
#define SENTINEL_COPY 0x5a5a5a5a5a5aLL

FIXTURE(access) {
	char tmpdir[64];
	char node[96];
	pid_t creator;
	int sock;
	int ufd;	/* the creator's uffd, received here */
	char *src;	/* one page of SEED pattern to COPY from */
	char *ra, *rb;	/* mapped only in the creator / only here */
	size_t len;	/* of each */
};

FIXTURE_SETUP(access)
{
	self->tmpdir[0] = self->node[0] = 0;
	self->creator = 0;
	self->sock = -1;
	self->ufd = -1;
}

FIXTURE_TEARDOWN(access)
{
	/* Whatever happened in the test, the sysctl goes back. */
	if (geteuid() == 0)
		sysctl_guard_restore();
	if (self->node[0])
		unlink(self->node);
	if (self->tmpdir[0])
		rmdir(self->tmpdir);
	fl_close(&self->ufd);
	fl_close(&self->sock);
	fl_reap(&self->creator);
	mem_pattern_free(self->src);
}

/* ------------------------------------------------------------ probes */

/* Create with @flags (an int smuggled in the pointer), then handshake. */
static int probe_create(void *arg, char *note, size_t len)
{
	int flags = (int)(intptr_t)arg;
	struct uffdio_api api = { .api = UFFD_API };
	int fd = uffd_syscall(flags | O_CLOEXEC), ret;

	snprintf(note, len, "euid %d, CAP_SYS_PTRACE %s", (int)geteuid(),
		 priv_has_cap(CAP_SYS_PTRACE) ? "yes" : "no");
	if (fd < 0)
		return fd;
	ret = uffd_api(fd, &api);
	close(fd);
	return ret;
}

/*
 * A user-mode-only fd (always creatable) asking for @features; on a kernel
 * that rejects the flag (EINVAL), a plain fd (the caller set the sysctl).
 */
static int probe_features(void *arg, char *note, size_t len)
{
	uint64_t features = (uint64_t)(uintptr_t)arg;
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = uffd_syscall(O_CLOEXEC | UFFD_USER_MODE_ONLY), ret;

	if (fd == -EINVAL)
		fd = uffd_syscall(O_CLOEXEC);

	if (fd < 0) {
		snprintf(note, len, "user-mode-only fd: %s", strerror(-fd));
		return -ENOTCONN;	/* not the answer under test */
	}
	ret = uffd_api(fd, &api);
	snprintf(note, len, "euid %d, CAP_SYS_PTRACE %s", (int)geteuid(),
		 priv_has_cap(CAP_SYS_PTRACE) ? "yes" : "no");
	close(fd);
	return ret;
}

/* Open a device node (path in @arg) and make a uffd from it. */
static int probe_node(void *arg, char *note, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = uffd_dev_open(arg, O_CLOEXEC, NULL), ret;

	snprintf(note, len, "euid %d", (int)geteuid());
	if (fd < 0)
		return fd;
	ret = uffd_api(fd, &api);
	close(fd);
	return ret;
}

/* ------------------------------------------------------------ sysctl */

/*
 * Make vm.unprivileged_userfaultfd == @val for the next probe: root sets
 * it (guarded: the lock also keeps another run from flipping it while the
 * probe runs), others skip unless it already is.
 */
#define NEED_SYSCTL(val) do {						\
	long __cur = sysctl_read(FL_SYSCTL_UNPRIV_UFFD);		\
	int __err;							\
	if (__cur < 0)							\
		FL_SKIP("cannot read vm.unprivileged_userfaultfd: %s",	\
			strerror((int)-__cur));				\
	if (geteuid() != 0 && __cur != (val))				\
		FL_SKIP("needs root to set vm.unprivileged_userfaultfd=%d (is %ld)", \
			(val), __cur);					\
	if (geteuid() == 0) {						\
		__err = sysctl_guard_set(val);				\
		if (__err == -EBUSY)					\
			FL_SKIP("another process kept vm.unprivileged_userfaultfd locked"); \
		ASSERT_EQ(0, __err);					\
		ASSERT_EQ((val), sysctl_read(FL_SYSCTL_UNPRIV_UFFD));	\
	}								\
} while (0)

/* Restore (when we changed it) and prove the original value is back. */
#define RESTORE_SYSCTL() do {						\
	if (geteuid() == 0) {						\
		EXPECT_EQ(0, sysctl_guard_restore());			\
		EXPECT_EQ(sysctl_guard_original(),			\
			  sysctl_read(FL_SYSCTL_UNPRIV_UFFD));		\
	}								\
} while (0)

/* Run @fn at @level, skipping when this user cannot drop to it. */
#define PROBE(level, fn, arg, res) ({					\
	int __r = priv_run((level), (fn), (arg), (res), PROBE_MS);	\
	if (__r == -EPERM && geteuid() != 0) {				\
		RESTORE_SYSCTL();					\
		FL_SKIP("needs root to drop to %s",			\
			priv_level_name(level));			\
	}								\
	ASSERT_EQ(0, __r) TH_LOG("%s", (res)->note);			\
	(res)->value;							\
})

/* @fn(@arg) run at @level must return @want. */
#define EXPECT_PROBE(level, fn, arg, want) do {				\
	struct priv_result __res;					\
	int __v = PROBE((level), (fn), (void *)(uintptr_t)(arg), &__res); \
	EXPECT_EQ((want), __v) TH_LOG("%s", __res.note);		\
} while (0)

/* The same with vm.unprivileged_userfaultfd at @val (then put back). */
#define EXPECT_PROBE_AT(val, level, fn, arg, want) do {			\
	NEED_SYSCTL(val);						\
	EXPECT_PROBE((level), (fn), (arg), (want));			\
	RESTORE_SYSCTL();						\
} while (0)

/* True when the kernel refuses UFFD_USER_MODE_ONLY itself (EINVAL). */
static bool user_mode_only_rejected(void)
{
	int fd = uffd_syscall(O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd >= 0)
		close(fd);
	return fd == -EINVAL;
}

/*
 * Skip unless the syscall exists at all (seccomp, CONFIG_USERFAULTFD). A
 * kernel that rejects UFFD_USER_MODE_ONLY is asked without it.
 */
static void require_syscall(struct __test_metadata *_metadata)
{
	int fd = uffd_syscall(O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd == -EINVAL)
		fd = uffd_syscall(O_CLOEXEC);
	if (fd < 0)
		FL_SKIP("%s", fl_no_uffd_reason(fd));
	close(fd);
}

/* Skip unless a UFFD_USER_MODE_ONLY uffd can be created, saying why not. */
static void require_user_mode_only(struct __test_metadata *_metadata)
{
	int fd = uffd_syscall(O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd < 0)
		FL_SKIP("%s", fl_user_mode_only_reason(fd));
	close(fd);
}

/* sysctl=0: no CAP_SYS_PTRACE, no user-mode-only flag -> EPERM. */
TEST_F(access, sysctl0_unprivileged_denied)
{
	require_syscall(_metadata);
	EXPECT_PROBE_AT(0, PRIV_NOBODY, probe_create, 0, -EPERM);
}

/* sysctl=0: UFFD_USER_MODE_ONLY is always allowed. */
TEST_F(access, sysctl0_user_mode_only_allowed)
{
	require_syscall(_metadata);
	require_user_mode_only(_metadata);
	EXPECT_PROBE_AT(0, PRIV_NOBODY, probe_create, UFFD_USER_MODE_ONLY, 0);
}

/* sysctl=0: CAP_SYS_PTRACE alone (uid nobody) is enough. */
TEST_F(access, sysctl0_cap_sys_ptrace_allowed)
{
	require_syscall(_metadata);
	FL_REQUIRE_ROOT();
	EXPECT_PROBE_AT(0, PRIV_NOBODY_PTRACE, probe_create, 0, 0);
}

/* sysctl=0: uid 0 without CAP_SYS_PTRACE is refused: the cap decides. */
TEST_F(access, sysctl0_root_without_cap_denied)
{
	require_syscall(_metadata);
	FL_REQUIRE_ROOT();
	EXPECT_PROBE_AT(0, PRIV_ROOT_NO_PTRACE, probe_create, 0, -EPERM);
}

/* sysctl=1: anyone may create a full uffd. */
TEST_F(access, sysctl1_unprivileged_allowed)
{
	const char *hold = getenv("FAULTLINE_TEST_HOLD_MS");

	require_syscall(_metadata);
	NEED_SYSCTL(1);
	EXPECT_PROBE(PRIV_NOBODY, probe_create, 0, 0);
	/* Lets tests/test_access.py signal us while the sysctl is changed. */
	if (hold)
		usleep(atoi(hold) * 1000);
	RESTORE_SYSCTL();
}

/* EVENT_FORK without CAP_SYS_PTRACE: EPERM; other features still fine. */
TEST_F(access, event_fork_denied_without_ptrace)
{
	require_syscall(_metadata);
	FL_REQUIRE_FEATURES(UFFD_FEATURE_EVENT_FORK);
	/* Without user-mode-only fds, nobody needs the sysctl to get one. */
	if (user_mode_only_rejected())
		NEED_SYSCTL(1);
	EXPECT_PROBE(PRIV_NOBODY, probe_features, UFFD_FEATURE_EVENT_FORK,
		     -EPERM);
	EXPECT_PROBE(PRIV_NOBODY, probe_features, UFFD_FEATURE_EVENT_REMAP,
		     0);
	RESTORE_SYSCTL();
}

/* EVENT_FORK with CAP_SYS_PTRACE (and nothing else): accepted. */
TEST_F(access, event_fork_allowed_with_ptrace)
{
	require_syscall(_metadata);
	FL_REQUIRE_FEATURES(UFFD_FEATURE_EVENT_FORK);
	if (user_mode_only_rejected())
		NEED_SYSCTL(1);
	EXPECT_PROBE(PRIV_NOBODY_PTRACE, probe_features,
		     UFFD_FEATURE_EVENT_FORK, 0);
	/* uid 0 without the cap. */
	EXPECT_PROBE(PRIV_ROOT_NO_PTRACE, probe_features,
		     UFFD_FEATURE_EVENT_FORK, -EPERM);
	RESTORE_SYSCTL();
}

/* ------------------------------------------------- kernel-mode faults */

static bool resident(void *addr, size_t page)
{
	unsigned char v = 0;

	return !mincore(addr, page, &v) && (v & 1);
}

/* Map and register @npages of anon memory on @fd (MISSING). */
static char *registered_hole(struct __test_metadata *_metadata, int fd,
			     size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, uffd_register_range(fd, p, len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	return p;
}

/*
 * A user-mode-only fd: read(2) and write(2) whose buffer is a registered
 * hole fail with EFAULT and queue no message; a user-space touch of the
 * same hole still produces a fault message (the fd does work).
 */
TEST_F_TIMEOUT(access, user_mode_only_kernel_fault_efault, 5)
{
	size_t page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffd_msg msg;
	struct toucher t;
	int fd, pfd[2];
	char *hole;

	fd = uffd_syscall(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		FL_SKIP("%s", fl_user_mode_only_reason(fd));
	ASSERT_EQ(0, uffd_api(fd, &api));
	hole = registered_hole(_metadata, fd, NPAGES * page);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC | O_NONBLOCK));

	ASSERT_EQ(5, write(pfd[1], "hello", 5));
	EXPECT_EQ(-1, read(pfd[0], hole, 5));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, write(pfd[1], hole + page, 5));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EAGAIN, uffd_read_msg(fd, &msg))
		TH_LOG("a kernel-mode fault was delivered to a user-mode-only fd");
	EXPECT_FALSE(resident(hole, page));

	/* User mode faults on the same fd are delivered and resolvable. */
	ASSERT_EQ(0, toucher_start(&t, hole, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(fd, &msg, 2000));
	EXPECT_EQ((uintptr_t)hole, msg.arg.pagefault.address);
	ASSERT_EQ(0, uffd_zeropage_all(fd, hole, page, 0, NULL));
	FL_TOUCHER_DONE(&t);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

/*
 * The other direction: an fd without UFFD_USER_MODE_ONLY turns the same
 * read(2) into a fault message; resolving it completes the read.
 */
TEST_F_TIMEOUT(access, kernel_mode_fault_delivered, 5)
{
	size_t page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct bg_read_args r = { .len = 5 };
	struct bg_call bg;
	struct uffd_msg msg;
	char src[4096], *buf;
	int fd, pfd[2];

	fd = uffd_create(UFFD_PATH_SYSCALL, O_NONBLOCK);
	if (fd < 0) {
		int sys_err = fd;

		fd = uffd_create(UFFD_PATH_DEV, O_NONBLOCK);
		if (fd < 0)
			FL_SKIP("no uffd that handles kernel-mode faults: syscall %s, /dev/userfaultfd %s",
				strerror(-sys_err), strerror(-fd));
	}
	ASSERT_EQ(0, uffd_api(fd, &api));
	r.buf = buf = registered_hole(_metadata, fd, NPAGES * page);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(5, write(pfd[1], "hello", 5));
	r.fd = pfd[0];
	ASSERT_EQ(0, bg_start(&bg, bg_read, &r));
	ASSERT_EQ(0, uffd_wait_msg(fd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)buf, msg.arg.pagefault.address);
	/* The kernel writes into the buffer: a write fault. */
	EXPECT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	EXPECT_TRUE(fl_thread_held(&bg.th))
		TH_LOG("read(2) returned before the fault was resolved");
	memset(src, 'z', sizeof(src));
	ASSERT_LE(page, sizeof(src));
	ASSERT_EQ(0, uffd_copy_all(fd, buf, src, page, 0, NULL));
	FL_THREAD_DONE(&bg.th);
	EXPECT_EQ(5, bg.ret) TH_LOG("errno %d", bg.err);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ('z', buf[5]);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

/* ------------------------------------------------------ /dev/userfaultfd */

/*
 * A private node with the real one's major/minor in a temp dir, mode
 * @mode; the real /dev/userfaultfd is only stat()ed.
 */
static void make_node(struct __test_metadata *_metadata,
		      FIXTURE_DATA(access) *self, mode_t mode,
		      struct stat *real_out)
{
	const char *tmp = getenv("TMPDIR");
	char note[PRIV_NOTE_LEN];
	struct stat real;
	int v;

	FL_REQUIRE_ROOT();
	if (stat("/dev/userfaultfd", &real))
		FL_SKIP("no /dev/userfaultfd here (%s)", strerror(errno));
	ASSERT_TRUE(S_ISCHR(real.st_mode));
	snprintf(self->tmpdir, sizeof(self->tmpdir), "%s/fl-access-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(self->tmpdir)) {
		self->tmpdir[0] = 0;
		FL_SKIP("no writable temp dir for a private node: %s",
			strerror(errno));
	}
	ASSERT_EQ(0, chmod(self->tmpdir, 0755));
	snprintf(self->node, sizeof(self->node), "%s/userfaultfd",
		 self->tmpdir);
	ASSERT_EQ(0, mknod(self->node, S_IFCHR | 0600, real.st_rdev));
	ASSERT_EQ(0, chmod(self->node, mode));
	*real_out = real;
	/* The control: root opens the private node, unless it cannot. */
	v = probe_node(self->node, note, sizeof(note));
	if (v == -EACCES)
		FL_SKIP("%s is on a nodev mount: root cannot open the node",
			self->tmpdir);
	EXPECT_EQ(0, v) TH_LOG("root on the private node");
}

/* Check the real node kept its mode and owner. */
static void check_real_node(struct __test_metadata *_metadata,
			    const struct stat *before)
{
	struct stat after;

	ASSERT_EQ(0, stat("/dev/userfaultfd", &after));
	EXPECT_EQ(before->st_mode, after.st_mode);
	EXPECT_EQ(before->st_uid, after.st_uid);
	EXPECT_EQ(before->st_rdev, after.st_rdev);
}

/*
 * A uffd from the node (path in @arg) is a full one: it receives the fault
 * of a read(2) whose buffer is a registered hole, which the syscall would
 * only give to CAP_SYS_PTRACE or with the sysctl at 1. 0 or a step code.
 */
static int probe_node_kernel_fault(void *arg, char *note, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct bg_read_args r = { .len = 5 };
	struct bg_call bg;
	struct uffd_msg msg;
	int fd, pfd[2], ret;
	char *src, *buf;

	fd = uffd_dev_open(arg, O_CLOEXEC | O_NONBLOCK, NULL);
	snprintf(note, len, "node open: %s", fd < 0 ? strerror(-fd) : "ok");
	if (fd < 0)
		return fd;
	r.buf = buf = mmap(NULL, page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = malloc(page);
	if (uffd_api(fd, &api) || buf == MAP_FAILED || !src ||
	    uffd_register_range(fd, buf, page,
				UFFDIO_REGISTER_MODE_MISSING, NULL) ||
	    pipe2(pfd, O_CLOEXEC) || write(pfd[1], "hello", 5) != 5)
		return 1;
	r.fd = pfd[0];
	if (bg_start(&bg, bg_read, &r))
		return 2;
	ret = uffd_wait_msg(fd, &msg, 2000);
	snprintf(note, len, "fault message: %s",
		 ret ? strerror(-ret) : "delivered");
	if (ret)
		return 3;	/* the reader stays blocked; the child exits */
	memset(src, 'z', page);
	if (uffd_copy_all(fd, buf, src, page, 0, NULL))
		return 4;
	if (!fl_thread_wait(&bg.th, 2000))
		return 5;
	fl_thread_join(&bg.th);
	snprintf(note, len, "read(2) returned %ld", bg.ret);
	return bg.ret == 5 && !memcmp(buf, "hello", 5) ? 0 : 6;
}

/* Mode 0600: root opens it (control), nobody gets EACCES. */
TEST_F(access, devnode_0600_denies_nobody)
{
	struct stat real;

	make_node(_metadata, self, 0600, &real);
	EXPECT_PROBE(PRIV_NOBODY, probe_node, self->node, -EACCES);
	check_real_node(_metadata, &real);
}

/* Mode 0666: nobody gets a uffd, whatever the sysctl says. */
TEST_F(access, devnode_0666_allows_nobody)
{
	struct stat real;

	make_node(_metadata, self, 0666, &real);
	EXPECT_PROBE(PRIV_NOBODY, probe_node, self->node, 0);
	/* It ignores the sysctl: kernel-mode faults are delivered too. */
	EXPECT_PROBE(PRIV_NOBODY, probe_node_kernel_fault, self->node, 0);
	/* The same user is refused by the syscall when the sysctl is 0. */
	if (sysctl_read(FL_SYSCTL_UNPRIV_UFFD) == 0)
		EXPECT_PROBE(PRIV_NOBODY, probe_create, 0, -EPERM);
	check_real_node(_metadata, &real);
}

/* ------------------------------------------------- SCM_RIGHTS transfer */

/* One byte of data with room for one passed fd (SCM_RIGHTS). */
struct fd_msg {
	char byte;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m;
};

static struct msghdr *fd_msg_init(struct fd_msg *f, char byte)
{
	memset(f, 0, sizeof(*f));
	f->byte = byte;
	f->iov = (struct iovec){ &f->byte, 1 };
	f->m = (struct msghdr){ .msg_iov = &f->iov, .msg_iovlen = 1,
				.msg_control = f->c.buf,
				.msg_controllen = sizeof(f->c.buf) };
	return &f->m;
}

static int send_fd(int sock, int fd)
{
	struct fd_msg f;
	struct msghdr *m = fd_msg_init(&f, 'F');
	struct cmsghdr *h = CMSG_FIRSTHDR(m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return sendmsg(sock, m, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	struct fd_msg f;
	struct msghdr *m = fd_msg_init(&f, 0);
	struct cmsghdr *h;
	int fd;

	if (recvmsg(sock, m, MSG_CMSG_CLOEXEC) != 1)
		return -EPROTO;
	if (f.byte != 'F')
		return -(int)(unsigned char)f.byte;	/* creator's error */
	h = CMSG_FIRSTHDR(m);
	if (!h || h->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

#define SEED 11

/*
 * The creator: maps RA (its own memory), makes a uffd, hands it over and
 * never touches it again; then obeys one-byte commands.
 *   'T': read all of RA's first page, answer 'Y' if it holds the pattern.
 *   'X': exit.
 */
static void creator_main(int sock, char *ra, char *rb, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	char cmd, ans;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	munmap(rb, len);
	if (mmap(ra, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != ra)
		_exit(3);
	fd = uffd_create_any(O_NONBLOCK, NULL);
	if (fd < 0 || uffd_api(fd, &api)) {
		ans = fd < 0 ? (char)-fd : 'A';
		if (write(sock, &ans, 1) < 0)
			_exit(4);
		_exit(5);
	}
	if (send_fd(sock, fd))
		_exit(6);
	close(fd);
	while (read(sock, &cmd, 1) == 1) {
		if (cmd == 'T') {
			size_t page = sysconf(_SC_PAGESIZE);

			ans = mem_check(ra, page, SEED) == -1 ? 'Y' : 'N';
			if (write(sock, &ans, 1) != 1)
				_exit(7);
		} else {
			break;
		}
	}
	_exit(0);
}

/*
 * Fork a creator; RA is mapped only in the creator, RB only here. Returns
 * the fd received from the creator.
 */
static int start_creator(struct __test_metadata *_metadata,
			 FIXTURE_DATA(access) *self, char **ra, char **rb,
			 size_t len)
{
	char *res;
	int sv[2], fd;

	res = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	*ra = res;
	*rb = res + len;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(NULL);
	self->creator = fork();
	ASSERT_LE(0, self->creator);
	if (self->creator == 0) {
		close(sv[0]);
		creator_main(sv[1], *ra, *rb, len);
	}
	close(sv[1]);
	self->sock = sv[0];
	ASSERT_EQ(0, munmap(*ra, len));
	ASSERT_EQ(*rb, mmap(*rb, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	fd = recv_fd(self->sock);
	if (fd < 0 && fd != -EPROTO)
		FL_SKIP("creator could not make a uffd: %s",
			fl_no_uffd_reason(fd));
	ASSERT_LE(0, fd);
	return fd;
}

/*
 * start_creator() with NPAGES pages each for RA and RB, then REGISTER the
 * creator's RA (MISSING) through its uffd; self->ufd and a page of
 * pattern in self->src are closed and freed at teardown.
 */
static int start_registered_creator(struct __test_metadata *_metadata,
				    FIXTURE_DATA(access) *self)
{
	self->len = NPAGES * (size_t)sysconf(_SC_PAGESIZE);
	self->ufd = start_creator(_metadata, self, &self->ra, &self->rb,
				  self->len);
	self->src = FL_PATTERN((size_t)sysconf(_SC_PAGESIZE), SEED);
	ASSERT_EQ(0, uffd_register_range(self->ufd, self->ra, self->len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	return self->ufd;
}

/*
 * A uffd received over SCM_RIGHTS works on its creator's mm: REGISTER of
 * an address mapped only in the creator succeeds and one mapped only here
 * fails; the creator's fault arrives here and our COPY resolves it.
 */
TEST_F_TIMEOUT(access, scm_rights_operates_on_creator_mm, 10)
{
	/* RA exists only in the creator: registering it works. */
	int fd = start_registered_creator(_metadata, self);
	size_t page = sysconf(_SC_PAGESIZE), len = self->len;
	char *ra = self->ra, *rb = self->rb;
	struct uffdio_copy c;
	struct uffd_msg msg;
	struct toucher t;
	unsigned char v;

	v = 0;
	EXPECT_EQ(-1, mincore(ra, page, &v)) TH_LOG("RA is mapped here too");
	EXPECT_EQ(ENOMEM, errno);

	/* RB exists only here: the creator's mm has no VMA there. */
	EXPECT_EQ(-EINVAL, uffd_register_range(fd, rb, len,
					       UFFDIO_REGISTER_MODE_MISSING,
					       NULL));
	/* ...and our RB is not registered: touching it does not block. */
	ASSERT_EQ(0, toucher_start(&t, rb, TOUCH_WRITE, 7));
	EXPECT_TRUE(toucher_wait(&t, 1000));
	if (fl_thread_is_done(&t.th))
		toucher_join(&t);

	/* The creator faults on RA; the message comes to us. */
	ASSERT_EQ(1, write(self->sock, "T", 1));
	ASSERT_EQ(0, uffd_wait_msg(fd, &msg, 3000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)ra, msg.arg.pagefault.address);
	c = (struct uffdio_copy){ .dst = (uintptr_t)ra,
				  .src = (uintptr_t)self->src, .len = page };
	ASSERT_EQ(0, uffd_copy(fd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	{
		struct pollfd p = { .fd = self->sock, .events = POLLIN };
		char ans = 0;

		ASSERT_EQ(1, poll(&p, 1, 3000));
		ASSERT_EQ(1, read(self->sock, &ans, 1));
		EXPECT_EQ('Y', ans) TH_LOG("the creator read other bytes");
	}
}

/* After the creator exits, the fd's operations fail (ESRCH for fills). */
TEST_F_TIMEOUT(access, scm_rights_after_creator_exit, 10)
{
	int fd = start_registered_creator(_metadata, self);
	size_t page = sysconf(_SC_PAGESIZE), len = self->len;
	char *ra = self->ra;
	struct uffdio_copy c;
	struct uffdio_zeropage z;
	struct uffd_msg msg;
	int status, reg, unreg, wake, rd;

	ASSERT_EQ(1, write(self->sock, "X", 1));
	ASSERT_EQ(self->creator, waitpid(self->creator, &status, 0));
	self->creator = 0;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	c = (struct uffdio_copy){ .dst = (uintptr_t)ra,
				  .src = (uintptr_t)self->src, .len = page,
				  .copy = SENTINEL_COPY };
	EXPECT_EQ(-ESRCH, uffd_copy(fd, &c));
	EXPECT_EQ(SENTINEL_COPY, c.copy);
	z = (struct uffdio_zeropage){ .range = { (uintptr_t)ra, page },
				      .zeropage = SENTINEL_COPY };
	EXPECT_EQ(-ESRCH, uffd_zeropage(fd, &z));
	EXPECT_EQ(SENTINEL_COPY, z.zeropage);
	reg = uffd_register_range(fd, ra, len, UFFDIO_REGISTER_MODE_MISSING,
				  NULL);
	unreg = uffd_unregister_range(fd, ra, len);
	wake = uffd_wake_range(fd, ra, len);
	rd = uffd_read_msg(fd, &msg);
	ksft_print_msg("finding: after the creator exited: COPY/ZEROPAGE ESRCH, REGISTER %s, UNREGISTER %s, WAKE %s, read %s\n",
		       reg ? strerror(-reg) : "ok",
		       unreg ? strerror(-unreg) : "ok",
		       wake ? strerror(-wake) : "ok",
		       rd ? strerror(-rd) : "a message");
	/*
	 * No address space any more: nothing may be registered. Every
	 * kernel of the matrix (5.10 to 7.x) answers ENOMEM (mmget_not_zero
	 * fails) and lets WAKE and read() find nothing to do.
	 */
	EXPECT_EQ(-ENOMEM, reg);
	EXPECT_EQ(-ENOMEM, unreg);
	EXPECT_EQ(0, wake);
	EXPECT_EQ(-EAGAIN, rd);
}

int main(int argc, char **argv)
{
	/* Before any test forks: record the value every restore goes back to. */
	sysctl_guard_init(FL_SYSCTL_UNPRIV_UFFD);
	return test_harness_run(argc, argv);
}
