// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd under seccomp: a filter that denies the syscall (with EPERM
 * or with a fake ENOSYS, as container runtimes do) must turn the suite's
 * gate into a SKIP that names seccomp, not a failure; and a filter on the
 * syscall alone leaves /dev/userfaultfd usable.
 *
 * Every filter is loaded in a forked child (libseccomp); the test process
 * itself is never filtered.
 */
#include <fcntl.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ksft_case.h"
#include "priv.h"
#include "sysctl.h"

#define PROBE_MS 5000

/* What the filter blocks. */
#define BLOCK_SYSCALL	(1u << 0)	/* userfaultfd(2) */
#define BLOCK_DEV	(1u << 1)	/* ioctl(USERFAULTFD_IOC_NEW) */

/* Load a filter answering -@err to what @block names. 0 or -errno. */
static int deny_uffd(int err, unsigned int block)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret = 0;

	if (!ctx)
		return -ENOMEM;
	if (block & BLOCK_SYSCALL)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err),
				       SCMP_SYS(userfaultfd), 0);
	if (!ret && (block & BLOCK_DEV))
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err),
				       SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, USERFAULTFD_IOC_NEW));
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

struct filter_probe {
	int err;		/* the errno the filter fakes; 0: no filter */
	unsigned int block;
};

/* The child's answer when the filter itself could not be loaded. */
#define NO_FILTER 1000

/*
 * The suite's gate in a filtered child: what the feature query returns
 * (0 or -errno) and, on failure, the skip reason it would print.
 */
static int probe_gate(void *arg, char *note, size_t len)
{
	const struct filter_probe *p = arg;
	uint64_t features;
	int ret;

	if (p->err && deny_uffd(p->err, p->block)) {
		snprintf(note, len, "cannot load the seccomp filter");
		return NO_FILTER;
	}
	ret = uffd_query(&features, NULL);
	snprintf(note, len, "%s", ret ? fl_no_uffd_reason(ret) : "ok");
	return ret;
}

/*
 * Only the syscall filtered: the syscall (both flavours) is refused, the
 * device node still gives a working uffd. Returns 0 when all of that held,
 * else a code saying which step broke (note has the details).
 */
static int probe_dev_reachable(void *arg, char *note, size_t len)
{
	const struct filter_probe *p = arg;
	struct uffdio_api api = { .api = UFFD_API };
	size_t page = sysconf(_SC_PAGESIZE);
	int sys, umo, fd;
	char *hole;

	if (deny_uffd(p->err, BLOCK_SYSCALL)) {
		snprintf(note, len, "cannot load the seccomp filter");
		return NO_FILTER;
	}
	sys = uffd_syscall(O_CLOEXEC);
	umo = uffd_syscall(O_CLOEXEC | UFFD_USER_MODE_ONLY);
	fd = uffd_dev_open(NULL, O_CLOEXEC, NULL);
	snprintf(note, len, "syscall %d, user-mode-only %d, /dev/userfaultfd %d",
		 sys, umo, fd < 0 ? fd : 0);
	if (sys != -p->err || umo != -p->err)
		return 1;		/* the filter did not bite */
	if (fd == -EACCES || fd == -ENOENT)
		return fd;		/* the node is not ours to use */
	if (fd < 0)
		return 2;
	if (uffd_api(fd, &api))
		return 3;
	hole = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED ||
	    uffd_register_range(fd, hole, page, UFFDIO_REGISTER_MODE_MISSING,
				NULL) ||
	    uffd_zeropage_all(fd, hole, page, 0, NULL) || hole[0] != 0)
		return 4;		/* the fd does not work */
	close(fd);
	return 0;
}

FIXTURE(seccomp) {
	int unused;
};

FIXTURE_VARIANT(seccomp) {
	int err;
};

FIXTURE_VARIANT_ADD(seccomp, eperm) { .err = EPERM };
FIXTURE_VARIANT_ADD(seccomp, enosys) { .err = ENOSYS };

FIXTURE_SETUP(seccomp)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(seccomp)
{
}

/* Run the gate under filter @p at @level; it must have seen the filter. */
static void run_gate(struct __test_metadata *_metadata, enum priv_level level,
		     struct filter_probe *p, struct priv_result *res)
{
	ASSERT_EQ(0, priv_run(level, probe_gate, p, res, PROBE_MS))
		TH_LOG("%s", res->note);
	ASSERT_NE(NO_FILTER, res->value) TH_LOG("%s", res->note);
}

/* The gate skipped with the filter's errno and a reason naming seccomp. */
static void expect_seccomp_skip(struct __test_metadata *_metadata, int err,
				const struct priv_result *res)
{
	EXPECT_EQ(-err, res->value) TH_LOG("%s", res->note);
	EXPECT_NE(NULL, strstr(res->note, "userfaultfd blocked by seccomp"))
		TH_LOG("skip reason: %s", res->note);
}

/* Syscall and device both filtered: the gate skips, naming seccomp. */
TEST_F(seccomp, gate_reports_seccomp)
{
	struct filter_probe p = { variant->err, BLOCK_SYSCALL | BLOCK_DEV };
	struct priv_result res;

	run_gate(_metadata, PRIV_KEEP, &p, &res);
	expect_seccomp_skip(_metadata, variant->err, &res);
}

/* The same, as an unprivileged user (the node's mode does not matter). */
TEST_F(seccomp, gate_reports_seccomp_unprivileged)
{
	struct filter_probe p = { variant->err, BLOCK_SYSCALL };
	struct priv_result res;

	run_gate(_metadata, PRIV_NOBODY, &p, &res);
	if (res.value == 0)
		FL_SKIP("/dev/userfaultfd is open to unprivileged users here: the gate passes through it");
	expect_seccomp_skip(_metadata, variant->err, &res);
}

/* Only the syscall filtered: /dev/userfaultfd still gives a working fd. */
TEST_F(seccomp, dev_node_still_reachable)
{
	struct filter_probe p = { variant->err, BLOCK_SYSCALL };
	struct priv_result res;
	struct priv_result gate;

	ASSERT_EQ(0, priv_run(PRIV_KEEP, probe_dev_reachable, &p, &res,
			      PROBE_MS));
	if (res.value == -ENOENT)
		FL_SKIP("no /dev/userfaultfd here (open: ENOENT)");
	if (res.value == -EACCES)
		FL_SKIP("/dev/userfaultfd is not accessible to euid %d",
			(int)geteuid());
	EXPECT_EQ(0, res.value) TH_LOG("%s", res.note);

	/* And with that filter the suite's gate passes (via the node). */
	ASSERT_EQ(0, priv_run(PRIV_KEEP, probe_gate, &p, &gate, PROBE_MS));
	EXPECT_EQ(0, gate.value) TH_LOG("%s", gate.note);
}

/* Without a filter the gate passes, and an EPERM does not blame seccomp. */
FIXTURE(seccomp_off) {
	int unused;
};

FIXTURE_SETUP(seccomp_off)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(seccomp_off)
{
	/* Whatever happened in the test, the sysctl goes back. */
	if (geteuid() == 0)
		sysctl_guard_restore();
}

TEST_F(seccomp_off, gate_passes)
{
	struct filter_probe none = { 0, 0 };
	struct priv_result res;

	ASSERT_EQ(0, priv_run(PRIV_KEEP, probe_gate, &none, &res, PROBE_MS));
	if (res.value == -ENOSYS)
		FL_SKIP("%s", res.note);
	EXPECT_EQ(0, res.value) TH_LOG("%s", res.note);
}

static int probe_plain_eperm(void *arg, char *note, size_t len)
{
	int fd = uffd_syscall(O_CLOEXEC);

	(void)arg;
	if (fd >= 0) {
		close(fd);
		snprintf(note, len, "created");
		return 0;
	}
	snprintf(note, len, "%s", fl_no_uffd_reason(fd));
	return fd;
}

TEST_F(seccomp_off, eperm_reason_is_not_seccomp)
{
	struct priv_result res;

	ASSERT_EQ(0, priv_run(PRIV_NOBODY, probe_plain_eperm, NULL, &res,
			      PROBE_MS));
	/*
	 * Created because vm.unprivileged_userfaultfd is 1 (the default
	 * before 5.11): root sets it to 0 for the probe and puts it back.
	 */
	if (res.value == 0 && geteuid() == 0 &&
	    sysctl_read(FL_SYSCTL_UNPRIV_UFFD) == 1) {
		int r;

		ASSERT_EQ(0, sysctl_guard_set(0));
		r = priv_run(PRIV_NOBODY, probe_plain_eperm, NULL, &res,
			     PROBE_MS);
		EXPECT_EQ(0, sysctl_guard_restore());
		EXPECT_EQ(1, sysctl_read(FL_SYSCTL_UNPRIV_UFFD));
		ASSERT_EQ(0, r);
	}
	if (res.value != -EPERM)
		FL_SKIP("the syscall is not refused to nobody here (%s)",
			res.note);
	EXPECT_EQ(NULL, strstr(res.note, "seccomp")) TH_LOG("%s", res.note);
	EXPECT_NE(NULL, strstr(res.note, "unprivileged_userfaultfd"))
		TH_LOG("%s", res.note);
}

int main(int argc, char **argv)
{
	/* Before any test forks: record the value every restore goes back to. */
	sysctl_guard_init(FL_SYSCTL_UNPRIV_UFFD);
	return test_harness_run(argc, argv);
}
