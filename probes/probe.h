/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-probe: the result model. The probe steps (access.c, api.c,
 * regmatrix.c, config.c, then facts.c and profiles.c, which derive from
 * the others) fill one struct probe; renderers (render_*.c) only read it.
 * Every answer is tri-state with the errno and a human reason. What the
 * features, ioctls, modes and memory types are comes from the domain
 * table (harness/domain.h).
 */
#ifndef FAULTLINE_PROBE_H
#define FAULTLINE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "uffd.h"
#include "mem.h"

#define PROBE_SCHEMA_VERSION	1
#define REASON_LEN		256
#define PROBE_GROUPS_MAX	64	/* supplementary groups reported */

enum tri { TRI_UNKNOWN, TRI_NO, TRI_YES };

/* The capability sets of /proc/self/status, in this order. */
#define CAP_SET_NR	5
extern const char *const cap_set_names[CAP_SET_NR];

const char *tri_name(enum tri t);

/* One answer: status, errno (0 if none), machine cause, human reason. */
struct verdict {
	enum tri status;
	int err;
	const char *cause;	/* short token, see SCHEMA.md; never NULL */
	char reason[REASON_LEN];
};

void verdict_set(struct verdict *v, enum tri status, int err,
		 const char *cause, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* snprintf that may truncate (reasons are best effort, always terminated). */
void strfmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Register modes tried: every non-empty combination of the table's mode
 * bits, single modes first (reg_modes[0..uffd_mode_count-1]).
 */
#define REG_MODE_MAX	15
int reg_mode_count(void);
uint64_t reg_mode(int i);

struct reg_result {
	struct verdict v;
	uint64_t mode;
	uint64_t ioctls;	/* what REGISTER returned, when accepted */
};

/* Kernel config options the probe reports, in a fixed order. */
struct cfg_opt {
	const char *name;	/* "CONFIG_USERFAULTFD" */
	size_t len;		/* strlen(name) */
	char value[24];		/* "y", "m", "n" (is not set), "" absent */
	bool present;
};
#define CFG_OPT_MAX	32

struct probe_config {
	struct verdict v;	/* yes: read; unknown: could not read */
	char source[256];
	int nopts;
	struct cfg_opt opts[CFG_OPT_MAX];
};

/*
 * Facts: flat, named yes/no/unknown answers derived from the result
 * (features, ioctls, access paths, register modes). --header, --shell and
 * --require work on these names.
 */
struct fact {
	char name[48];		/* "MOVE", "REGISTER_SHMEM_MINOR" */
	const char *group;	/* "path", "access", "feature", "ioctl", "register" */
	/*
	 * What the fact is about, by its domain table name: the path
	 * ("dev-userfaultfd"), feature ("MOVE"), ioctl ("COPY") or memory
	 * type ("shmem", with @mode "MINOR"); for "access" facts the fact
	 * name ("KERNEL_FAULTS"). Renderers build their keys from these.
	 */
	const char *subject;
	const char *mode;	/* register facts: the mode's name; else NULL */
	enum tri value;
	char reason[REASON_LEN];
};
#define FACT_MAX	160

/* A consumer profile's verdict (profiles.c). */
#define PROFILE_MAX	16
#define PROFILE_REQ_MAX	8
struct profile_result {
	const char *name;
	const char *title;
	enum tri status;
	int nmissing;
	char missing[PROFILE_REQ_MAX][REASON_LEN];
	char fix[PROFILE_REQ_MAX][REASON_LEN];
	int nreq;
	char req[PROFILE_REQ_MAX][160];	/* every requirement, described */
};

struct probe {
	struct utsname uts;
	const char *dev_node;		/* default /dev/userfaultfd */
	const char *config_path;	/* --config, else /boot or /proc */
	bool unprivileged;		/* --unprivileged was honoured */
	struct verdict unpriv_drop;	/* result of dropping CAP_SYS_PTRACE */
	/* --as-user: the spec as given ("nobody", "1000:1000"), "" if none. */
	char as_user[64];

	/* Environment facts the diagnosis uses. */
	int sysctl;			/* vm.unprivileged_userfaultfd, -1 */
	int sysctl_err;
	enum tri cap_ptrace;		/* CAP_SYS_PTRACE in effective set */
	int seccomp_mode;		/* 0/1/2, -1 unknown */
	int seccomp_filters;		/* -1 unknown */
	int no_new_privs;		/* 0/1, -1 unknown */
	bool caps_known;		/* cap_sets[] read from /proc */
	uint64_t cap_sets[CAP_SET_NR];	/* masks, in cap_set_names order */
	uid_t uid, euid;
	gid_t gid, egid;
	int ngroups;			/* supplementary groups, -1 unknown */
	gid_t groups[PROBE_GROUPS_MAX];
	struct stat dev_st;
	int dev_stat_err;		/* 0 when dev_st is valid */

	/* Access. */
	struct verdict implemented;	/* invalid-flags call, no fd */
	struct verdict access[UFFD_PATH_NR];
	struct verdict kernel_faults;
	int work_fd;			/* handshaken fd for the matrix, -1 */
	enum uffd_path work_path;

	/* API. */
	struct verdict api_v;
	uint64_t api, features, ioctls;
	struct verdict fork_allowed;	/* UFFDIO_API with EVENT_FORK */

	/* Register matrix: reg[type][i] is reg_mode(i). */
	struct verdict mem[MEM_TYPE_NR];	/* could the type be mapped */
	size_t mem_page[MEM_TYPE_NR];
	struct reg_result reg[MEM_TYPE_NR][REG_MODE_MAX];

	struct probe_config config;

	/* Derived from all of the above. */
	int nfacts;
	struct fact facts[FACT_MAX];
	int nprofiles;
	struct profile_result profiles[PROFILE_MAX];
};

/* Probes, run in this order by probe_run(). */
void probe_env(struct probe *p);
void probe_config(struct probe *p);
void probe_access(struct probe *p);
void probe_api(struct probe *p);
void probe_register(struct probe *p);
void probe_facts(struct probe *p);
void probe_profiles(struct probe *p);
void probe_run(struct probe *p);
void probe_release(struct probe *p);
/* Drop CAP_SYS_PTRACE from every set; fills p->unpriv_drop. */
int probe_drop_ptrace(struct probe *p);

/* Config lookup: the option's value ("y", "n", ...), NULL if unknown. */
const char *config_value(const struct probe *p, const char *name);
/* 1 enabled, 0 disabled or absent, -1 config unknown. */
int config_enabled(const struct probe *p, const char *name);

/* Every valid fact name (p->facts' order), independent of this kernel. */
int fact_names(char names[][48], int max);
/* Normalize a user-given name ("uffd_feature_move" -> "MOVE"). */
void fact_normalize(const char *in, char *out, size_t outlen);
/* The fact called @name in p->facts, NULL if none. */
const struct fact *fact_find(const struct probe *p, const char *name);

/*
 * Every yes/no/unknown answer about a named thing, for the renderers that
 * flatten the result into keys (prometheus, nfd): the facts in their
 * order, then the profiles (group "profile", subject the profile's name).
 * @reason says why for no and unknown answers.
 */
struct answer {
	const char *group;	/* a fact group, or "profile" */
	const char *subject;
	const char *mode;	/* register answers: the mode; else NULL */
	enum tri value;
	const char *reason;
};
#define ANSWER_MAX	(FACT_MAX + PROFILE_MAX)
int probe_answers(const struct probe *p, struct answer *out, int max);

/* Consumer profiles (profiles.c): names independent of this kernel. */
int profile_count(void);
const char *profile_name(int i);
int profile_find(const char *name);

/* Why UFFDIO_API leaves feature @bit out, from the kernel's config (absence.c). */
void feature_absence(const struct probe *p, unsigned int bit, char *buf,
		     size_t len);

/* Renderers. */
void render_text(const struct probe *p, bool colour);
void render_json(const struct probe *p);
void render_header(const struct probe *p);
void render_shell(const struct probe *p);
void render_prometheus(const struct probe *p);
void render_nfd(const struct probe *p);

/*
 * How the identity probed came about: "caller" (the process as started),
 * "unprivileged" (--unprivileged: CAP_SYS_PTRACE dropped) or "as-user"
 * (--as-user: another uid and gid, no capabilities).
 */
const char *probe_view(const struct probe *p);

/* Print @s on one line: newlines and other control characters as spaces. */
void put_oneline(const char *s);

/* "EPERM", or "E<n>" for unnamed values; static per call for unknowns. */
const char *errno_name(int err);

#endif /* FAULTLINE_PROBE_H */
