// SPDX-License-Identifier: GPL-2.0
/* uffd-probe: the human renderer (short, aligned, colour on a TTY). */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static bool use_colour;

static const char *paint(enum tri t)
{
	if (!use_colour)
		return "";
	return t == TRI_YES ? "\033[32m" : t == TRI_NO ? "\033[31m" :
							 "\033[33m";
}

static const char *reset(void)
{
	return use_colour ? "\033[0m" : "";
}

/* "  label      yes  reason" */
static void line(const char *label, const struct verdict *v, bool reason)
{
	char word[24];

	snprintf(word, sizeof(word), "%s", tri_name(v->status));
	if (v->status != TRI_YES && v->err)
		snprintf(word, sizeof(word), "%s %s",
			 v->status == TRI_NO ? "no" : "?", errno_name(v->err));
	if (!reason && v->status == TRI_YES) {
		printf("  %-24s %s%s%s\n", label, paint(v->status), word,
		       reset());
		return;
	}
	printf("  %-24s %s%-12s%s %s\n", label, paint(v->status), word,
	       reset(), v->reason);
}

/* Names of the bits of @mask, wrapped under column 27. */
static void names(uint64_t mask, enum uffd_mask_kind kind)
{
	struct uffd_mask_names n;
	unsigned int i, col = 27;

	uffd_mask_split(kind, mask, true, &n);
	for (i = 0; i < n.n; i++) {
		if (col + strlen(n.name[i]) + 1 > 79) {
			printf("\n%27s", "");
			col = 27;
		}
		printf("%s%s", col > 27 ? " " : "", n.name[i]);
		col += (unsigned int)strlen(n.name[i]) + 1;
	}
}

/* Whether /proc said every capability set of the probe is empty. */
static bool no_caps(const struct probe *p)
{
	int i;

	for (i = 0; i < CAP_SET_NR; i++)
		if (p->cap_sets[i])
			return false;
	return p->caps_known;
}

/* --as-user: the whole identity the probe ran with, as /proc saw it. */
static void text_identity(const struct probe *p)
{
	int i;

	printf(" gid %u groups ", p->egid);
	if (p->ngroups <= 0)
		printf("%s", p->ngroups ? "?" : "none");
	for (i = 0; i < p->ngroups; i++)
		printf("%s%u", i ? "," : "", p->groups[i]);
	printf(", %s (--as-user %s)", no_caps(p) ? "no capabilities" :
	       "capabilities left", p->as_user);
}

static void text_access(const struct probe *p)
{
	char sysctl[32];
	int i;

	if (p->sysctl >= 0)
		snprintf(sysctl, sizeof(sysctl), "%d", p->sysctl);
	else
		snprintf(sysctl, sizeof(sysctl), "unreadable (%s)",
			 errno_name(p->sysctl_err));
	printf("uffd-probe %s: Linux %s %s, uid %u%s", FAULTLINE_VERSION,
	       p->uts.release, p->uts.machine, p->euid,
	       p->unprivileged ? " (unprivileged view: CAP_SYS_PTRACE dropped)" : "");
	if (p->as_user[0])
		text_identity(p);
	putchar('\n');
	printf("  CAP_SYS_PTRACE %s, seccomp mode %d (%d filters), vm.unprivileged_userfaultfd %s\n",
	       tri_name(p->cap_ptrace), p->seccomp_mode, p->seccomp_filters,
	       sysctl);
	printf("access\n");
	for (i = 0; i < UFFD_PATH_NR; i++)
		line(uffd_path_name(i), &p->access[i], false);
	line("syscall implemented", &p->implemented, true);
	line("kernel-mode faults", &p->kernel_faults, true);
}

static void text_api(const struct probe *p)
{
	char label[48];

	printf("api\n");
	line("UFFDIO_API", &p->api_v, false);
	if (p->api_v.status != TRI_YES)
		return;
	printf("  %-24s 0x%llx (via %s)\n", "version",
	       (unsigned long long)p->api, uffd_path_name(p->work_path));
	printf("  %-24s 0x%llx\n%27s", "features",
	       (unsigned long long)p->features, "");
	names(p->features, MASK_FEATURES);
	printf("\n  %-24s 0x%llx\n%27s", "ioctls",
	       (unsigned long long)p->ioctls, "");
	names(p->ioctls, MASK_IOCTLS);
	putchar('\n');
	snprintf(label, sizeof(label), "%s allowed",
		 UFFD_FEATURE_NAME(UFFD_FEATURE_EVENT_FORK));
	line(label, &p->fork_allowed, false);
}

/*
 * A register-mode column heading: a single mode by name, a combination by
 * the first three letters of each, and every mode as "all".
 */
static const char *short_mode(uint64_t mode, char *buf, size_t len)
{
	struct uffd_mask_names n;
	size_t used = 0;
	unsigned int i;

	if (mode == uffd_known_modes() && uffd_mode_count > 1)
		return "all";
	if (uffd_mask_split(MASK_MODES, mode, true, &n) == 1)
		return n.name[0];
	buf[0] = 0;
	for (i = 0; i < n.n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%.3s",
					 i ? "|" : "", n.name[i]);
	return buf;
}

static void text_register(const struct probe *p)
{
	int t, m, nmodes = reg_mode_count();
	char head[32];

	printf("register (one page, nothing populated)\n  %-16s", "");
	for (m = 0; m < nmodes; m++)
		printf(" %-*s", m + 1 < nmodes ? 8 : 0,
		       short_mode(reg_mode(m), head, sizeof(head)));
	putchar('\n');
	for (t = 0; t < MEM_TYPE_NR; t++) {
		printf("  %-16s", mem_type_name(t));
		if (p->mem[t].status != TRI_YES) {
			printf(" %s?%s %s\n", paint(TRI_UNKNOWN), reset(),
			       p->mem[t].reason);
			continue;
		}
		for (m = 0; m < nmodes; m++) {
			const struct reg_result *r = &p->reg[t][m];
			const char *w = r->v.status == TRI_YES ? "yes" :
				r->v.err ? errno_name(r->v.err) : "?";

			printf(" %s%-*s%s", paint(r->v.status),
			       m + 1 < nmodes ? 8 : 0, w, reset());
		}
		putchar('\n');
	}
}

static void text_config(const struct probe *p)
{
	const struct probe_config *c = &p->config;
	int i, col = 0;

	if (c->v.status != TRI_YES) {
		printf("config\n");
		line("kernel config", &c->v, false);
		return;
	}
	printf("config (%s)\n ", c->source);
	for (i = 0; i < c->nopts; i++) {
		const struct cfg_opt *o = &c->opts[i];
		const char *v = o->present ? o->value : "absent";
		int w = (int)(strlen(o->name) - 7 + strlen(v) + 2);

		if (col + w > 76) {
			printf("\n ");
			col = 0;
		}
		printf(" %s=%s", o->name + 7, v);
		col += w;
	}
	putchar('\n');
}

static void text_profiles(const struct probe *p)
{
	int i, j;

	printf("profiles\n");
	for (i = 0; i < p->nprofiles; i++) {
		const struct profile_result *r = &p->profiles[i];

		printf("  %-24s %s%-12s%s %s\n", r->name, paint(r->status),
		       r->status == TRI_YES ? "ok" : tri_name(r->status),
		       reset(), r->title);
		for (j = 0; j < r->nmissing; j++)
			printf("  %-24s   missing: %s\n  %-24s   fix: %s\n", "",
			       r->missing[j], "", r->fix[j]);
	}
}

void render_text(const struct probe *p, bool colour)
{
	use_colour = colour;
	text_access(p);
	text_api(p);
	text_register(p);
	text_config(p);
	text_profiles(p);
	/*
	 * The probe is read-only and fast: it says what the kernel reports,
	 * not whether it carries the fixes for known bugs. Point at what does.
	 */
	printf("\nknown kernel bugs: not checked here (the probe only asks); run the battery:\n"
	       "  faultline --only 'bugs.*'   (./run.py in a source tree; cases/COVERAGE.md lists them)\n");
}
