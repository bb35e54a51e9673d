// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the flat list of named facts (access paths, features,
 * ioctls, register modes) that --header, --shell and --require use. The
 * names come from the domain table, so a new row there is a new fact.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe.h"

/* The fact about whether UFFDIO_API accepts EVENT_FORK here. */
static void fork_fact_name(char *buf, size_t len)
{
	snprintf(buf, len, "%s_ALLOWED",
		 UFFD_FEATURE_NAME(UFFD_FEATURE_EVENT_FORK));
}

/* The API's own bit is always there with an fd: not worth a fact. */
static bool ioctl_has_fact(const struct uffd_ioctl_info *io)
{
	return io->bit != _UFFDIO_API;
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* The names, in the order probe_facts() produces them. */
int fact_names(char names[][48], int max)
{
	int n = 0, t;
	size_t i;

	for (i = 0; i < UFFD_PATH_NR && n < max; i++)
		snprintf(names[n++], 48, "%s", uffd_paths[i].fact);
	if (n < max)
		snprintf(names[n++], 48, "KERNEL_FAULTS");
	if (n < max)
		fork_fact_name(names[n++], 48);
	for (i = 0; i < uffd_feature_count && n < max; i++)
		snprintf(names[n++], 48, "%s", uffd_features[i].name);
	for (i = 0; i < uffd_ioctl_count && n < max; i++)
		if (ioctl_has_fact(&uffd_ioctls[i]))
			snprintf(names[n++], 48, "IOCTL_%s",
				 uffd_ioctls[i].name);
	for (t = 0; t < MEM_TYPE_NR; t++) {
		for (i = 0; i < uffd_mode_count && n < max; i++) {
			snprintf(names[n], 48, "REGISTER_%s_%s",
				 mem_type_name(t), uffd_modes[i].name);
			upper(names[n++]);
		}
	}
	return n;
}

static void put(struct fact *f, const char *group, enum tri v,
		const char *reason)
{
	f->group = group;
	f->value = v;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

/* What @f is about, in the domain table's words (see struct fact). */
static void about(struct fact *f, const char *subject, const char *mode)
{
	f->subject = subject;
	f->mode = mode;
}

static void feature_fact(const struct probe *p, struct fact *f,
			 unsigned int bit)
{
	char why[REASON_LEN], cause[REASON_LEN - 32];

	about(f, uffd_feature_name(bit), NULL);
	if (p->api_v.status != TRI_YES) {
		put(f, "feature", TRI_UNKNOWN, p->api_v.reason);
		return;
	}
	if (p->features & UFFD_BIT(bit)) {
		put(f, "feature", TRI_YES, "reported by UFFDIO_API");
		return;
	}
	feature_absence(p, bit, cause, sizeof(cause));
	snprintf(why, sizeof(why), "not reported by UFFDIO_API (%s)", cause);
	put(f, "feature", TRI_NO, why);
}

/*
 * An ioctl is there if the API or any accepted REGISTER returned it. When
 * some REGISTER could not be tried, its mask is unseen: an ioctl missing
 * from the others is then unknown, not absent.
 */
static void ioctl_fact(const struct probe *p, struct fact *f,
		       unsigned int bit)
{
	const struct verdict *untested = NULL;
	uint64_t all = p->ioctls;
	int t, m;

	about(f, uffd_ioctl_name(bit), NULL);
	if (p->api_v.status != TRI_YES) {
		put(f, "ioctl", TRI_UNKNOWN, p->api_v.reason);
		return;
	}
	for (t = 0; t < MEM_TYPE_NR; t++) {
		for (m = 0; m < reg_mode_count(); m++) {
			if (p->reg[t][m].v.status == TRI_YES)
				all |= p->reg[t][m].ioctls;
			else if (p->reg[t][m].v.status == TRI_UNKNOWN)
				untested = &p->reg[t][m].v;
		}
	}
	if (all & UFFD_BIT(bit))
		put(f, "ioctl", TRI_YES,
		    "in the UFFDIO_API or a REGISTER ioctl mask");
	else if (untested)
		put(f, "ioctl", TRI_UNKNOWN, untested->reason);
	else
		put(f, "ioctl", TRI_NO,
		    "in no ioctl mask (API or any accepted REGISTER)");
}

/* The next fact to fill; past FACT_MAX a scratch one nobody reads. */
static struct fact *next_fact(struct probe *p)
{
	static struct fact overflow;

	return p->nfacts < FACT_MAX ? &p->facts[p->nfacts++] : &overflow;
}

void probe_facts(struct probe *p)
{
	char names[FACT_MAX][48];
	int n = fact_names(names, FACT_MAX), i, t;
	struct fact *f;
	size_t j;

	memset(p->facts, 0, sizeof(p->facts));
	p->nfacts = 0;
	for (j = 0; j < UFFD_PATH_NR; j++) {
		f = next_fact(p);
		put(f, "path", p->access[j].status, p->access[j].reason);
		about(f, uffd_paths[j].name, NULL);
	}
	put(next_fact(p), "access", p->kernel_faults.status,
	    p->kernel_faults.reason);
	put(next_fact(p), "access", p->fork_allowed.status,
	    p->fork_allowed.reason);
	for (j = 0; j < uffd_feature_count; j++)
		feature_fact(p, next_fact(p), uffd_features[j].bit);
	for (j = 0; j < uffd_ioctl_count; j++)
		if (ioctl_has_fact(&uffd_ioctls[j]))
			ioctl_fact(p, next_fact(p), uffd_ioctls[j].bit);
	/* reg_mode(0..uffd_mode_count - 1) are the single modes. */
	for (t = 0; t < MEM_TYPE_NR; t++) {
		for (j = 0; j < uffd_mode_count; j++) {
			f = next_fact(p);
			put(f, "register", p->reg[t][j].v.status,
			    p->reg[t][j].v.reason);
			about(f, mem_type_name(t),
			      uffd_mode_name(UFFD_BIT(uffd_modes[j].bit)));
		}
	}
	for (i = 0; i < p->nfacts && i < n; i++) {
		memcpy(p->facts[i].name, names[i], sizeof(p->facts[i].name));
		/* An access fact is about itself: its name is the subject. */
		if (!p->facts[i].subject)
			p->facts[i].subject = p->facts[i].name;
	}
}

int probe_answers(const struct probe *p, struct answer *out, int max)
{
	int n = 0, i;

	for (i = 0; i < p->nfacts && n < max; i++, n++)
		out[n] = (struct answer){
			.group = p->facts[i].group,
			.subject = p->facts[i].subject,
			.mode = p->facts[i].mode,
			.value = p->facts[i].value,
			.reason = p->facts[i].reason,
		};
	for (i = 0; i < p->nprofiles && n < max; i++, n++) {
		const struct profile_result *r = &p->profiles[i];

		out[n] = (struct answer){
			.group = "profile", .subject = r->name,
			.value = r->status,
			/* The first unmet requirement says why. */
			.reason = r->nmissing ? r->missing[0] : "",
		};
	}
	return n;
}

const struct fact *fact_find(const struct probe *p, const char *name)
{
	int i;

	for (i = 0; i < p->nfacts; i++)
		if (!strcmp(p->facts[i].name, name))
			return &p->facts[i];
	return NULL;
}

void fact_normalize(const char *in, char *out, size_t outlen)
{
	const char *pre = "";

	if (!strncasecmp(in, "UFFD_HAVE_", 10))
		in += 10;
	else if (!strncasecmp(in, "UFFD_FEATURE_", 13))
		in += 13;
	else if (!strncasecmp(in, "UFFDIO_", 7)) {
		/* UFFDIO_COPY is the ioctl fact IOCTL_COPY. */
		in += 7;
		pre = "IOCTL_";
	}
	snprintf(out, outlen, "%s%s", pre, in);
	for (; *out; out++)
		*out = *out == '-' ? '_' : (char)toupper((unsigned char)*out);
}
