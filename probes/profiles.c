// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: what real consumers of userfaultfd need, as data. A profile
 * is a list of requirements; each requirement is checked against the
 * probe result and, when not met, says what is missing and how to fix it.
 * To add a consumer, add a row to profiles[].
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe.h"

enum req_kind {
	REQ_END,
	REQ_ANY_FD,		/* some creation path works */
	REQ_KERNEL_FAULTS,	/* an fd that resolves kernel-mode faults */
	REQ_FEATURES,		/* every feature bit in mask */
	REQ_FEATURE_ANY,	/* at least one feature bit in mask */
	REQ_FORK_ALLOWED,	/* UFFDIO_API accepts EVENT_FORK here */
	REQ_REGISTER,		/* mode on mem accepted, mask in its ioctls */
};

struct req {
	enum req_kind kind;
	uint64_t mask;
	enum mem_type mem;
	uint64_t mode;
};

struct profile_def {
	const char *name;
	const char *title;
	struct req req[PROFILE_REQ_MAX];
};

/* Requirement constructors (designated, so unused fields are zero). */
#define ANY_FD		{ .kind = REQ_ANY_FD }
#define KERNEL_FAULTS	{ .kind = REQ_KERNEL_FAULTS }
#define FORK_ALLOWED	{ .kind = REQ_FORK_ALLOWED }
#define FEATURES(m)	{ .kind = REQ_FEATURES, .mask = (m) }
#define FEATURE_ANY(m)	{ .kind = REQ_FEATURE_ANY, .mask = (m) }
#define REGISTER(t, md, io) \
	{ .kind = REQ_REGISTER, .mem = (t), .mode = (md), .mask = (io) }

#define F(x)	UFFD_FEATURE_##x
#define I(x)	(1ull << _UFFDIO_##x)
#define MISSING	UFFDIO_REGISTER_MODE_MISSING
#define WP	UFFDIO_REGISTER_MODE_WP

static const struct profile_def profiles[] = {
	{ "qemu-postcopy", "QEMU postcopy live migration", {
		KERNEL_FAULTS,
		REGISTER(MEM_ANON, MISSING, I(WAKE) | I(COPY) | I(ZEROPAGE)),
	} },
	{ "qemu-background-snapshot", "QEMU background snapshot", {
		KERNEL_FAULTS,
		FEATURES(F(PAGEFAULT_FLAG_WP)),
		REGISTER(MEM_ANON, WP, I(WRITEPROTECT)),
	} },
	{ "firecracker", "Firecracker snapshot restore (UFFD backend)", {
		KERNEL_FAULTS,
		FEATURES(F(EVENT_REMOVE)),
		REGISTER(MEM_ANON, MISSING, I(WAKE) | I(COPY)),
		REGISTER(MEM_HUGETLB_PRIVATE, MISSING, I(WAKE) | I(COPY)),
	} },
	{ "criu-lazy-pages", "CRIU lazy pages (restore, lazy migration)", {
		KERNEL_FAULTS,
		FEATURES(F(EVENT_FORK) | F(EVENT_REMAP) | F(EVENT_REMOVE) |
			 F(EVENT_UNMAP)),
		FORK_ALLOWED,
		REGISTER(MEM_ANON, MISSING, I(WAKE) | I(COPY) | I(ZEROPAGE)),
	} },
	{ "android-art", "Android ART concurrent mark-compact GC", {
		ANY_FD,
		FEATURES(F(SIGBUS)),
		FEATURE_ANY(F(MINOR_SHMEM) | F(MOVE)),
		REGISTER(MEM_ANON, MISSING, I(COPY)),
	} },
};
#define N_PROFILES ((int)(sizeof(profiles) / sizeof(profiles[0])))
_Static_assert(N_PROFILES <= PROFILE_MAX, "raise PROFILE_MAX");

int profile_count(void)
{
	return N_PROFILES;
}

const char *profile_name(int i)
{
	return i >= 0 && i < N_PROFILES ? profiles[i].name : NULL;
}

int profile_find(const char *name)
{
	int i;

	/* Like fact names, profile names are case-insensitive. */
	for (i = 0; i < N_PROFILES; i++)
		if (!strcasecmp(profiles[i].name, name))
			return i;
	return -1;
}

/* "A,B,C" from a feature or ioctl mask. */
static void mask_names(uint64_t mask, bool ioctl, char *buf, size_t len)
{
	uffd_mask_join(ioctl ? MASK_IOCTLS : MASK_FEATURES, mask, ",", buf,
		       len);
}

static void describe(const struct req *r, char *buf, size_t len)
{
	char names[160];

	switch (r->kind) {
	case REQ_ANY_FD:
		strfmt(buf, len, "a userfaultfd (any creation path)");
		break;
	case REQ_KERNEL_FAULTS:
		strfmt(buf, len, "an fd that resolves kernel-mode faults");
		break;
	case REQ_FEATURES:
	case REQ_FEATURE_ANY:
		mask_names(r->mask, false, names, sizeof(names));
		strfmt(buf, len, "%s %s",
			 r->kind == REQ_FEATURES ? "features" : "one of",
			 names);
		break;
	case REQ_FORK_ALLOWED:
		strfmt(buf, len, "%s allowed for this process",
		       UFFD_FEATURE_NAME(UFFD_FEATURE_EVENT_FORK));
		break;
	case REQ_REGISTER:
		mask_names(r->mask, true, names, sizeof(names));
		strfmt(buf, len, "REGISTER %s on %s returning %s",
			 uffd_mode_name(r->mode), mem_type_name(r->mem), names);
		break;
	default:
		buf[0] = 0;
	}
}

/* How to get a working (kernel-fault-capable) fd, from the diagnosis. */
static void access_fix(const struct probe *p, char *buf, size_t len)
{
	const struct verdict *sys = &p->access[UFFD_PATH_SYSCALL];
	const struct verdict *dev = &p->access[UFFD_PATH_DEV];
	const char *devfix = "";

	if (!strcmp(sys->cause, "no_kernel_support")) {
		strfmt(buf, len, "boot a kernel built with CONFIG_USERFAULTFD=y");
		return;
	}
	if (!strcmp(dev->cause, "device_mode"))
		devfix = "; or give the user read/write access to the device node (e.g. a group with mode 0660)";
	else if (!strcmp(dev->cause, "no_device") ||
		 !strcmp(dev->cause, "device_denied"))
		devfix = "; or expose /dev/userfaultfd (Linux >= 6.1) to the workload (e.g. docker --device /dev/userfaultfd)";
	if (!strcmp(sys->cause, "seccomp")) {
		strfmt(buf, len, "allow the userfaultfd syscall in the seccomp profile (Docker/Podman: --security-opt seccomp=<profile>)%s",
			 devfix);
		return;
	}
	if (!strcmp(sys->cause, "sysctl")) {
		strfmt(buf, len, "grant CAP_SYS_PTRACE, or sysctl -w vm.unprivileged_userfaultfd=1%s",
			 devfix);
		return;
	}
	strfmt(buf, len, "make userfaultfd creation work: %s", sys->reason);
}

static void feature_fix(const struct probe *p, uint64_t missing, char *buf,
			size_t len)
{
	unsigned int b = (unsigned int)__builtin_ctzll(missing);
	const char *cfg = uffd_feature_config(b);

	strfmt(buf, len, "boot %s%s%s (running %s)", uffd_feature_since(b),
		 cfg ? " with " : "", cfg ? cfg : "", p->uts.release);
}

static enum tri check_register(const struct probe *p, const struct req *r,
			       char *miss, char *fix, size_t len)
{
	const struct reg_result *rr = NULL;
	char names[160];
	int i;

	for (i = 0; i < reg_mode_count(); i++)
		if (reg_mode(i) == r->mode)
			rr = &p->reg[r->mem][i];
	if (!rr || rr->v.status == TRI_UNKNOWN) {
		strfmt(miss, len, "REGISTER %s on %s untested",
			 uffd_mode_name(r->mode), mem_type_name(r->mem));
		strfmt(fix, len, "%s", rr ? rr->v.reason : "?");
		return TRI_UNKNOWN;
	}
	if (rr->v.status == TRI_NO) {
		strfmt(miss, len, "REGISTER %s on %s refused (%s)",
			 uffd_mode_name(r->mode), mem_type_name(r->mem),
			 errno_name(rr->v.err));
		if (!strcmp(rr->v.cause, "no_feature"))
			strfmt(fix, len, "%s: boot a newer kernel",
				 rr->v.reason);
		else
			strfmt(fix, len, "%s", rr->v.reason);
		return TRI_NO;
	}
	if ((rr->ioctls & r->mask) != r->mask) {
		mask_names(r->mask & ~rr->ioctls, true, names, sizeof(names));
		strfmt(miss, len, "REGISTER %s on %s does not return %s",
			 uffd_mode_name(r->mode), mem_type_name(r->mem), names);
		strfmt(fix, len, "boot a kernel that supports UFFDIO_%s on %s",
			 names, mem_type_name(r->mem));
		return TRI_NO;
	}
	return TRI_YES;
}

static enum tri check(const struct probe *p, const struct req *r, char *miss,
		      char *fix, size_t len)
{
	char want[200];
	uint64_t lack;

	describe(r, want, sizeof(want));
	strfmt(miss, len, "%s", want);
	if (r->kind == REQ_REGISTER)
		return check_register(p, r, miss, fix, len);
	if (r->kind == REQ_ANY_FD || r->kind == REQ_KERNEL_FAULTS) {
		bool any = false, ok;
		int i;

		for (i = 0; i < UFFD_PATH_NR; i++)
			any |= p->access[i].status == TRI_YES;
		ok = r->kind == REQ_KERNEL_FAULTS ?
			p->kernel_faults.status == TRI_YES : any;

		if (ok)
			return TRI_YES;
		strfmt(miss, len, "%s (%s)", want,
		       any ? "only UFFD_USER_MODE_ONLY fds can be created" :
		       "no creation path works");
		access_fix(p, fix, len);
		return TRI_NO;
	}
	if (p->api_v.status != TRI_YES) {
		strfmt(fix, len, "%s", p->api_v.reason);
		return TRI_UNKNOWN;
	}
	switch (r->kind) {
	case REQ_FEATURES:
		lack = r->mask & ~p->features;
		if (!lack)
			return TRI_YES;
		mask_names(lack, false, want, sizeof(want));
		strfmt(miss, len, "feature %s", want);
		feature_fix(p, lack, fix, len);
		return TRI_NO;
	case REQ_FEATURE_ANY:
		if (r->mask & p->features)
			return TRI_YES;
		feature_fix(p, r->mask, fix, len);
		return TRI_NO;
	case REQ_FORK_ALLOWED:
		if (p->fork_allowed.status == TRI_YES)
			return TRI_YES;
		strfmt(miss, len, "%s (%s)", want,
		       p->fork_allowed.err == EPERM ?
		       "needs CAP_SYS_PTRACE" : p->fork_allowed.reason);
		strfmt(fix, len, "run the consumer with CAP_SYS_PTRACE");
		return p->fork_allowed.status;
	default:
		return TRI_UNKNOWN;
	}
}

static void profile_eval(const struct probe *p, int i,
			 struct profile_result *res)
{
	const struct profile_def *d = &profiles[i];
	const struct req *r;
	bool no = false;

	memset(res, 0, sizeof(*res));
	res->name = d->name;
	res->title = d->title;
	for (r = d->req; r->kind != REQ_END && res->nreq < PROFILE_REQ_MAX;
	     r++) {
		char *miss = res->missing[res->nmissing];
		char *fix = res->fix[res->nmissing];
		bool access = r->kind == REQ_ANY_FD ||
			      r->kind == REQ_KERNEL_FAULTS;
		enum tri t;

		describe(r, res->req[res->nreq++], sizeof(res->req[0]));
		/* Without any fd the rest cannot be checked: say it once. */
		if (!access && no && p->api_v.status != TRI_YES)
			continue;
		t = check(p, r, miss, fix, REASON_LEN);
		if (t == TRI_YES)
			continue;
		no |= t == TRI_NO;
		res->nmissing++;
	}
	if (!res->nmissing)
		res->status = TRI_YES;
	else
		res->status = no ? TRI_NO : TRI_UNKNOWN;
}

void probe_profiles(struct probe *p)
{
	for (p->nprofiles = 0; p->nprofiles < N_PROFILES; p->nprofiles++)
		profile_eval(p, p->nprofiles, &p->profiles[p->nprofiles]);
}
