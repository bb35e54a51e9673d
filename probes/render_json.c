// SPDX-License-Identifier: GPL-2.0
/* uffd-probe: the JSON renderer (schema in probes/SCHEMA.md). */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void jkey(const char *k)
{
	jstr(k);
	putchar(':');
}

static void jerrno(int err)
{
	jkey("errno");
	if (err)
		jstr(errno_name(err));
	else
		fputs("null", stdout);
	printf(",\"errno_num\":%d", err);
}

/* "status", "errno", "errno_num", "cause", "reason" of a verdict. */
static void jverdict(const struct verdict *v)
{
	jkey("status");
	jstr(tri_name(v->status));
	putchar(',');
	jerrno(v->err);
	putchar(',');
	jkey("cause");
	jstr(v->cause ? v->cause : "unknown");
	putchar(',');
	jkey("reason");
	jstr(v->reason);
}

static void jnames(uint64_t mask, enum uffd_mask_kind kind)
{
	struct uffd_mask_names n;
	unsigned int i;

	uffd_mask_split(kind, mask, false, &n);
	putchar('[');
	for (i = 0; i < n.n; i++) {
		printf("%s", i ? "," : "");
		jstr(n.name[i]);
	}
	putchar(']');
}

static void jmask(const char *key, uint64_t mask, enum uffd_mask_kind kind)
{
	printf("\"%s\":%llu,\"%s_hex\":\"0x%llx\",", key,
	       (unsigned long long)mask, key, (unsigned long long)mask);
	printf("\"%s_names\":", kind == MASK_IOCTLS ? "ioctl" : "feature");
	jnames(mask, kind);
}

/* The bit numbers of @mask the domain table has no name for. */
static void junknown(const char *key, uint64_t mask, enum uffd_mask_kind kind)
{
	struct uffd_mask_names n;
	unsigned int i;
	bool first = true;

	uffd_mask_split(kind, mask, true, &n);
	printf(",\"%s\":[", key);
	for (i = 0; i < n.n; i++) {
		if (n.known[i])
			continue;
		printf("%s%u", first ? "" : ",", n.bit[i]);
		first = false;
	}
	putchar(']');
}

/*
 * "view", "as_user" (the --as-user argument or null), "groups",
 * "no_new_privs" and "capabilities" (each set's mask) of the process.
 */
static void json_identity(const struct probe *p)
{
	int i;

	printf("\"view\":\"%s\",\"as_user\":", probe_view(p));
	if (p->as_user[0])
		jstr(p->as_user);
	else
		fputs("null", stdout);
	printf(",\"groups\":");
	if (p->ngroups < 0)
		fputs("null", stdout);
	else
		putchar('[');
	for (i = 0; i < p->ngroups; i++)
		printf("%s%u", i ? "," : "", p->groups[i]);
	printf("%s,", p->ngroups < 0 ? "" : "]");
	printf("\"no_new_privs\":%s,\"capabilities\":",
	       p->no_new_privs < 0 ? "null" : p->no_new_privs ? "true" : "false");
	if (!p->caps_known)
		fputs("null", stdout);
	for (i = 0; p->caps_known && i < CAP_SET_NR; i++)
		printf("%s\"%s\":\"0x%llx\"", i ? "," : "{", cap_set_names[i],
		       (unsigned long long)p->cap_sets[i]);
	printf("%s,", p->caps_known ? "}" : "");
}

static void json_process(const struct probe *p)
{
	printf("\"kernel\":{\"release\":");
	jstr(p->uts.release);
	printf(",\"version\":");
	jstr(p->uts.version);
	printf(",\"machine\":");
	jstr(p->uts.machine);
	printf("},\"process\":{\"uid\":%u,\"euid\":%u,\"gid\":%u,\"egid\":%u,",
	       p->uid, p->euid, p->gid, p->egid);
	printf("\"unprivileged_view\":%s,\"cap_sys_ptrace\":\"%s\",",
	       p->unprivileged ? "true" : "false", tri_name(p->cap_ptrace));
	json_identity(p);
	if (p->seccomp_mode >= 0)
		printf("\"seccomp_mode\":%d,\"seccomp_filters\":%d,",
		       p->seccomp_mode, p->seccomp_filters);
	else
		printf("\"seccomp_mode\":null,\"seccomp_filters\":null,");
	if (p->sysctl >= 0)
		printf("\"unprivileged_userfaultfd\":%d,", p->sysctl);
	else
		printf("\"unprivileged_userfaultfd\":null,");
	jkey("unprivileged_userfaultfd_error");
	if (p->sysctl_err)
		jstr(errno_name(p->sysctl_err));
	else
		fputs("null", stdout);
	printf("},\"device\":{\"path\":");
	jstr(p->dev_node);
	if (p->dev_stat_err)
		printf(",\"exists\":false,\"error\":\"%s\"}",
		       errno_name(p->dev_stat_err));
	else
		printf(",\"exists\":true,\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u}",
		       p->dev_st.st_mode & 07777, p->dev_st.st_uid,
		       p->dev_st.st_gid);
}

static void json_access(const struct probe *p)
{
	int i;

	printf(",\"implemented\":{");
	jverdict(&p->implemented);
	printf("},\"access\":[");
	for (i = 0; i < UFFD_PATH_NR; i++) {
		printf("%s{\"path\":", i ? "," : "");
		jstr(uffd_path_name(i));
		putchar(',');
		jverdict(&p->access[i]);
		putchar('}');
	}
	printf("],\"kernel_faults\":{");
	jverdict(&p->kernel_faults);
	putchar('}');
}

static void json_api(const struct probe *p)
{
	printf(",\"api\":{");
	jverdict(&p->api_v);
	printf(",\"via\":");
	if (p->api_v.status == TRI_YES)
		jstr(uffd_path_name(p->work_path));
	else
		fputs("null", stdout);
	printf(",\"api\":%llu,", (unsigned long long)p->api);
	jmask("features", p->features, MASK_FEATURES);
	junknown("unknown_feature_bits", p->features, MASK_FEATURES);
	putchar(',');
	jmask("ioctls", p->ioctls, MASK_IOCTLS);
	junknown("unknown_ioctl_bits", p->ioctls, MASK_IOCTLS);
	printf(",\"event_fork_allowed\":{");
	jverdict(&p->fork_allowed);
	printf("}}");
}

static void json_register(const struct probe *p)
{
	int t, m;

	printf(",\"memory\":[");
	for (t = 0; t < MEM_TYPE_NR; t++) {
		printf("%s{\"mem\":\"%s\",\"page_size\":%zu,", t ? "," : "",
		       mem_type_name(t), p->mem_page[t]);
		jverdict(&p->mem[t]);
		putchar('}');
	}
	printf("],\"register\":[");
	for (t = 0; t < MEM_TYPE_NR; t++) {
		for (m = 0; m < reg_mode_count(); m++) {
			const struct reg_result *r = &p->reg[t][m];

			printf("%s{\"mem\":\"%s\",\"mode\":\"%s\",\"mode_mask\":%llu,",
			       t || m ? "," : "", mem_type_name(t),
			       uffd_mode_name(r->mode),
			       (unsigned long long)r->mode);
			jverdict(&r->v);
			putchar(',');
			jmask("ioctls", r->ioctls, MASK_IOCTLS);
			putchar('}');
		}
	}
	putchar(']');
}

static void json_config(const struct probe *p)
{
	const struct probe_config *c = &p->config;
	int i;

	printf(",\"config\":{");
	jverdict(&c->v);
	printf(",\"source\":");
	if (c->v.status == TRI_YES)
		jstr(c->source);
	else
		fputs("null", stdout);
	printf(",\"options\":{");
	for (i = 0; i < c->nopts; i++) {
		printf("%s", i ? "," : "");
		jkey(c->opts[i].name);
		if (c->v.status == TRI_YES && c->opts[i].present)
			jstr(c->opts[i].value);
		else
			fputs("null", stdout);
	}
	printf("}}");
}

static void jlist(const char (*items)[REASON_LEN], int n)
{
	int i;

	putchar('[');
	for (i = 0; i < n; i++) {
		printf("%s", i ? "," : "");
		jstr(items[i]);
	}
	putchar(']');
}

static void json_profiles(const struct probe *p)
{
	char fix[PROFILE_REQ_MAX * REASON_LEN + 16];
	int i, j;

	printf(",\"profiles\":[");
	for (i = 0; i < p->nprofiles; i++) {
		const struct profile_result *r = &p->profiles[i];

		printf("%s{\"name\":", i ? "," : "");
		jstr(r->name);
		printf(",\"title\":");
		jstr(r->title);
		printf(",\"status\":\"%s\",\"ok\":%s,\"requires\":[",
		       tri_name(r->status),
		       r->status == TRI_YES ? "true" : "false");
		for (j = 0; j < r->nreq; j++) {
			printf("%s", j ? "," : "");
			jstr(r->req[j]);
		}
		printf("],\"missing\":");
		jlist(r->missing, r->nmissing);
		printf(",\"fixes\":");
		jlist(r->fix, r->nmissing);
		printf(",\"fix\":");
		fix[0] = 0;
		for (j = 0; j < r->nmissing; j++)
			snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix),
				 "%s%s", j ? "; " : "", r->fix[j]);
		if (r->nmissing)
			jstr(fix);
		else
			fputs("null", stdout);
		putchar('}');
	}
	putchar(']');
}

static void json_facts(const struct probe *p)
{
	int i;

	printf(",\"facts\":{");
	for (i = 0; i < p->nfacts; i++)
		printf("%s\"%s\":\"%s\"", i ? "," : "", p->facts[i].name,
		       tri_name(p->facts[i].value));
	putchar('}');
}

/* A string, or null. */
static void jstr_or_null(const char *s)
{
	if (s)
		jstr(s);
	else
		fputs("null", stdout);
}

static void jbool(const char *key, bool v)
{
	printf(",\"%s\":%s", key, v ? "true" : "false");
}

/*
 * The domain table itself, so that a consumer (the report) takes names and
 * order from here and keeps no list of its own.
 */
static void json_domain(void)
{
	size_t i;

	printf(",\"domain\":{\"features\":[");
	for (i = 0; i < uffd_feature_count; i++) {
		const struct uffd_feature_info *f = &uffd_features[i];

		printf("%s{\"bit\":%u,\"name\":", i ? "," : "", f->bit);
		jstr(f->name);
		printf(",\"since\":");
		jstr(f->since);
		printf(",\"config\":");
		jstr_or_null(f->config);
		printf(",\"enables\":");
		jstr(f->enables);
		putchar('}');
	}
	printf("],\"ioctls\":[");
	for (i = 0; i < uffd_ioctl_count; i++) {
		printf("%s{\"bit\":%u,\"name\":", i ? "," : "",
		       uffd_ioctls[i].bit);
		jstr(uffd_ioctls[i].name);
		printf(",\"output\":");
		jstr_or_null(uffd_ioctls[i].output);
		putchar('}');
	}
	printf("],\"register_modes\":[");
	for (i = 0; i < uffd_mode_count; i++) {
		printf("%s{\"mask\":%llu,\"name\":", i ? "," : "",
		       (unsigned long long)UFFD_BIT(uffd_modes[i].bit));
		jstr(uffd_modes[i].name);
		putchar('}');
	}
	printf("],\"memory_types\":[");
	for (i = 0; i < MEM_TYPE_NR; i++) {
		printf("%s{\"name\":", i ? "," : "");
		jstr(mem_types[i].name);
		jbool("hugetlb", mem_types[i].hugetlb);
		jbool("shared", mem_types[i].shared);
		jbool("file", mem_types[i].file);
		putchar('}');
	}
	printf("]}");
}

void render_json(const struct probe *p)
{
	printf("{\"schema_version\":%d,\"probe_version\":\"%s\",",
	       PROBE_SCHEMA_VERSION, FAULTLINE_VERSION);
	json_process(p);
	json_access(p);
	json_api(p);
	json_register(p);
	json_config(p);
	json_profiles(p);
	json_facts(p);
	json_domain();
	printf("}\n");
}
