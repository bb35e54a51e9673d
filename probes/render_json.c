// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the JSON renderer (schema in probes/SCHEMA.md), written with
 * the library's JSON writer (harness/json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "probe.h"

/* "errno" (its name or null) and "errno_num". */
static void jerrno(struct json *j, int err)
{
	json_str(j, "errno", err ? errno_name(err) : NULL);
	json_int(j, "errno_num", err);
}

/* "status", "errno", "errno_num", "cause", "reason" of a verdict. */
static void jverdict(struct json *j, const struct verdict *v)
{
	json_str(j, "status", tri_name(v->status));
	jerrno(j, v->err);
	json_str(j, "cause", v->cause ? v->cause : "unknown");
	json_str(j, "reason", v->reason);
}

/* A member @key holding an object with just the verdict. */
static void jverdict_obj(struct json *j, const char *key,
			 const struct verdict *v)
{
	json_open(j, key, '{');
	jverdict(j, v);
	json_close(j);
}

/* "<key>", "<key>_hex" and the names of the bits of @mask. */
static void jmask(struct json *j, const char *key, uint64_t mask,
		  enum uffd_mask_kind kind)
{
	struct uffd_mask_names n;
	char hex_key[48];
	unsigned int i;

	json_uint(j, key, (unsigned long long)mask);
	snprintf(hex_key, sizeof(hex_key), "%s_hex", key);
	json_strf(j, hex_key, "0x%llx", (unsigned long long)mask);
	uffd_mask_split(kind, mask, false, &n);
	json_open(j, kind == MASK_IOCTLS ? "ioctl_names" : "feature_names", '[');
	for (i = 0; i < n.n; i++)
		json_str(j, NULL, n.name[i]);
	json_close(j);
}

/* The bit numbers of @mask the domain table has no name for. */
static void junknown(struct json *j, const char *key, uint64_t mask,
		     enum uffd_mask_kind kind)
{
	struct uffd_mask_names n;
	unsigned int i;

	uffd_mask_split(kind, mask, true, &n);
	json_open(j, key, '[');
	for (i = 0; i < n.n; i++)
		if (!n.known[i])
			json_uint(j, NULL, n.bit[i]);
	json_close(j);
}

/*
 * "view", "as_user" (the --as-user argument or null), "groups",
 * "no_new_privs" and "capabilities" (each set's mask) of the process.
 */
static void json_identity(struct json *j, const struct probe *p)
{
	int i;

	json_str(j, "view", probe_view(p));
	json_str(j, "as_user", p->as_user[0] ? p->as_user : NULL);
	if (p->ngroups < 0) {
		json_null(j, "groups");
	} else {
		json_open(j, "groups", '[');
		for (i = 0; i < p->ngroups; i++)
			json_uint(j, NULL, p->groups[i]);
		json_close(j);
	}
	if (p->no_new_privs < 0)
		json_null(j, "no_new_privs");
	else
		json_bool(j, "no_new_privs", p->no_new_privs);
	if (!p->caps_known) {
		json_null(j, "capabilities");
		return;
	}
	json_open(j, "capabilities", '{');
	for (i = 0; i < CAP_SET_NR; i++)
		json_strf(j, cap_set_names[i], "0x%llx",
			  (unsigned long long)p->cap_sets[i]);
	json_close(j);
}

static void json_process(struct json *j, const struct probe *p)
{
	json_open(j, "kernel", '{');
	json_str(j, "release", p->uts.release);
	json_str(j, "version", p->uts.version);
	json_str(j, "machine", p->uts.machine);
	json_close(j);
	json_open(j, "process", '{');
	json_uint(j, "uid", p->uid);
	json_uint(j, "euid", p->euid);
	json_uint(j, "gid", p->gid);
	json_uint(j, "egid", p->egid);
	json_bool(j, "unprivileged_view", p->unprivileged);
	json_str(j, "cap_sys_ptrace", tri_name(p->cap_ptrace));
	json_identity(j, p);
	if (p->seccomp_mode >= 0) {
		json_int(j, "seccomp_mode", p->seccomp_mode);
		json_int(j, "seccomp_filters", p->seccomp_filters);
	} else {
		json_null(j, "seccomp_mode");
		json_null(j, "seccomp_filters");
	}
	if (p->sysctl >= 0)
		json_int(j, "unprivileged_userfaultfd", p->sysctl);
	else
		json_null(j, "unprivileged_userfaultfd");
	json_str(j, "unprivileged_userfaultfd_error",
		 p->sysctl_err ? errno_name(p->sysctl_err) : NULL);
	json_close(j);
	json_open(j, "device", '{');
	json_str(j, "path", p->dev_node);
	if (p->dev_stat_err) {
		json_bool(j, "exists", false);
		json_str(j, "error", errno_name(p->dev_stat_err));
	} else {
		json_bool(j, "exists", true);
		json_strf(j, "mode", "%04o", p->dev_st.st_mode & 07777);
		json_uint(j, "uid", p->dev_st.st_uid);
		json_uint(j, "gid", p->dev_st.st_gid);
	}
	json_close(j);
}

static void json_access(struct json *j, const struct probe *p)
{
	int i;

	jverdict_obj(j, "implemented", &p->implemented);
	json_open(j, "access", '[');
	for (i = 0; i < UFFD_PATH_NR; i++) {
		json_open(j, NULL, '{');
		json_str(j, "path", uffd_path_name(i));
		jverdict(j, &p->access[i]);
		json_close(j);
	}
	json_close(j);
	jverdict_obj(j, "kernel_faults", &p->kernel_faults);
}

static void json_api(struct json *j, const struct probe *p)
{
	json_open(j, "api", '{');
	jverdict(j, &p->api_v);
	json_str(j, "via", p->api_v.status == TRI_YES ?
		 uffd_path_name(p->work_path) : NULL);
	json_uint(j, "api", (unsigned long long)p->api);
	jmask(j, "features", p->features, MASK_FEATURES);
	junknown(j, "unknown_feature_bits", p->features, MASK_FEATURES);
	jmask(j, "ioctls", p->ioctls, MASK_IOCTLS);
	junknown(j, "unknown_ioctl_bits", p->ioctls, MASK_IOCTLS);
	jverdict_obj(j, "event_fork_allowed", &p->fork_allowed);
	json_close(j);
}

static void json_register(struct json *j, const struct probe *p)
{
	int t, m;

	json_open(j, "memory", '[');
	for (t = 0; t < MEM_TYPE_NR; t++) {
		json_open(j, NULL, '{');
		json_str(j, "mem", mem_type_name(t));
		json_uint(j, "page_size", p->mem_page[t]);
		jverdict(j, &p->mem[t]);
		json_close(j);
	}
	json_close(j);
	json_open(j, "register", '[');
	for (t = 0; t < MEM_TYPE_NR; t++) {
		for (m = 0; m < reg_mode_count(); m++) {
			const struct reg_result *r = &p->reg[t][m];

			json_open(j, NULL, '{');
			json_str(j, "mem", mem_type_name(t));
			json_str(j, "mode", uffd_mode_name(r->mode));
			json_uint(j, "mode_mask", (unsigned long long)r->mode);
			jverdict(j, &r->v);
			jmask(j, "ioctls", r->ioctls, MASK_IOCTLS);
			json_close(j);
		}
	}
	json_close(j);
}

static void json_config(struct json *j, const struct probe *p)
{
	const struct probe_config *c = &p->config;
	bool known = c->v.status == TRI_YES;
	int i;

	json_open(j, "config", '{');
	jverdict(j, &c->v);
	json_str(j, "source", known ? c->source : NULL);
	json_open(j, "options", '{');
	for (i = 0; i < c->nopts; i++)
		json_str(j, c->opts[i].name, known && c->opts[i].present ?
			 c->opts[i].value : NULL);
	json_close(j);
	json_close(j);
}

static void jlist(struct json *j, const char *key,
		  const char (*items)[REASON_LEN], int n)
{
	int i;

	json_open(j, key, '[');
	for (i = 0; i < n; i++)
		json_str(j, NULL, items[i]);
	json_close(j);
}

static void json_profiles(struct json *j, const struct probe *p)
{
	char fix[PROFILE_REQ_MAX * REASON_LEN + 16];
	int i, k;

	json_open(j, "profiles", '[');
	for (i = 0; i < p->nprofiles; i++) {
		const struct profile_result *r = &p->profiles[i];

		json_open(j, NULL, '{');
		json_str(j, "name", r->name);
		json_str(j, "title", r->title);
		json_str(j, "status", tri_name(r->status));
		json_bool(j, "ok", r->status == TRI_YES);
		json_open(j, "requires", '[');
		for (k = 0; k < r->nreq; k++)
			json_str(j, NULL, r->req[k]);
		json_close(j);
		jlist(j, "missing", r->missing, r->nmissing);
		jlist(j, "fixes", r->fix, r->nmissing);
		fix[0] = 0;
		for (k = 0; k < r->nmissing; k++)
			snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix),
				 "%s%s", k ? "; " : "", r->fix[k]);
		json_str(j, "fix", r->nmissing ? fix : NULL);
		json_close(j);
	}
	json_close(j);
}

static void json_facts(struct json *j, const struct probe *p)
{
	int i;

	json_open(j, "facts", '{');
	for (i = 0; i < p->nfacts; i++)
		json_str(j, p->facts[i].name, tri_name(p->facts[i].value));
	json_close(j);
}

/*
 * The domain table itself, so that a consumer (the report) takes names and
 * order from here and keeps no list of its own.
 */
static void json_domain(struct json *j)
{
	size_t i;

	json_open(j, "domain", '{');
	json_open(j, "features", '[');
	for (i = 0; i < uffd_feature_count; i++) {
		const struct uffd_feature_info *f = &uffd_features[i];

		json_open(j, NULL, '{');
		json_uint(j, "bit", f->bit);
		json_str(j, "name", f->name);
		json_str(j, "since", f->since);
		json_str(j, "config", f->config);
		json_str(j, "enables", f->enables);
		json_close(j);
	}
	json_close(j);
	json_open(j, "ioctls", '[');
	for (i = 0; i < uffd_ioctl_count; i++) {
		json_open(j, NULL, '{');
		json_uint(j, "bit", uffd_ioctls[i].bit);
		json_str(j, "name", uffd_ioctls[i].name);
		json_str(j, "output", uffd_ioctls[i].output);
		json_close(j);
	}
	json_close(j);
	json_open(j, "register_modes", '[');
	for (i = 0; i < uffd_mode_count; i++) {
		json_open(j, NULL, '{');
		json_uint(j, "mask", (unsigned long long)UFFD_BIT(uffd_modes[i].bit));
		json_str(j, "name", uffd_modes[i].name);
		json_close(j);
	}
	json_close(j);
	json_open(j, "memory_types", '[');
	for (i = 0; i < MEM_TYPE_NR; i++) {
		json_open(j, NULL, '{');
		json_str(j, "name", mem_types[i].name);
		json_bool(j, "hugetlb", mem_types[i].hugetlb);
		json_bool(j, "shared", mem_types[i].shared);
		json_bool(j, "file", mem_types[i].file);
		json_close(j);
	}
	json_close(j);
	json_close(j);
}

void render_json(const struct probe *p)
{
	struct json j;
	const char *text;

	json_object(&j);
	json_int(&j, "schema_version", PROBE_SCHEMA_VERSION);
	json_str(&j, "probe_version", FAULTLINE_VERSION);
	json_process(&j, p);
	json_access(&j, p);
	json_api(&j, p);
	json_register(&j, p);
	json_config(&j, p);
	json_profiles(&j, p);
	json_facts(&j, p);
	json_domain(&j);
	text = json_end(&j);
	if (!text) {
		/* Nothing half-written: the probe cannot report (exit 2). */
		fprintf(stderr, "uffd-probe: out of memory writing the JSON report\n");
		exit(2);
	}
	printf("%s\n", text);
	json_free(&j);
}
