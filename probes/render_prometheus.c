// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the Prometheus text exposition renderer (--format
 * prometheus), meant for node_exporter's textfile collector.
 *
 * One gauge family per kind of answer; the label values are the domain
 * table's names, taken from the answers (probe_answers()), so a new row in
 * the table is a new sample with no change here. A yes is 1, a no is 0.
 * An unknown answer is neither: writing 0 would claim "no", so its family
 * has no sample for it; instead uffd_unknown has one with the same labels
 * (and metric="<family>"), preceded by a comment that says why.
 *
 * Every sample carries uid="<uid probed>": probes of several identities
 * (--as-user) can share one textfile directory without clashing series.
 */
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* A gauge family: the answers of one group, and the label naming each. */
struct family {
	const char *group;	/* answer group (see probe_answers()) */
	const char *metric;
	const char *label;	/* label that carries the answer's subject */
	const char *help;
};

static const struct family families[] = {
	{ "path", "uffd_path", "path",
	  "Whether a userfaultfd can be created on this creation path (1 yes, 0 no)." },
	{ "access", "uffd_access", "name",
	  "Other access facts, by their uffd-probe --require name (1 yes, 0 no)." },
	{ "feature", "uffd_feature", "name",
	  "Whether UFFDIO_API reports the feature (1 yes, 0 no)." },
	{ "ioctl", "uffd_ioctl", "name",
	  "Whether the ioctl is in the UFFDIO_API or an accepted REGISTER ioctl mask (1 yes, 0 no)." },
	{ "register", "uffd_register_mode", "mem",
	  "Whether UFFDIO_REGISTER accepts the mode on one page of the memory type (1 yes, 0 no)." },
	{ "profile", "uffd_profile_ok", "profile",
	  "Whether everything the consumer profile needs works here (1 yes, 0 no)." },
};
#define N_FAMILIES	(sizeof(families) / sizeof(families[0]))

/* A label value: backslash, double quote and newline escaped. */
static void label_value(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void label(const char *name, const char *value, bool first)
{
	printf("%s%s=\"", first ? "" : ",", name);
	label_value(value);
	putchar('"');
}

static void head(const char *metric, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

/* The labels of @a in @f, then uid; @first: no comma before them. */
static void answer_labels(const struct family *f, const struct answer *a,
			  uid_t uid, bool first)
{
	char id[16];

	label(f->label, a->subject, first);
	if (a->mode)
		label("mode", a->mode, false);
	snprintf(id, sizeof(id), "%u", uid);
	label("uid", id, false);
}

static void family_samples(const struct family *f, const struct answer *a,
			   int n, uid_t uid)
{
	int i;

	head(f->metric, f->help);
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].group, f->group) || a[i].value == TRI_UNKNOWN)
			continue;
		printf("%s{", f->metric);
		answer_labels(f, &a[i], uid, true);
		printf("} %d\n", a[i].value == TRI_YES);
	}
}

static void unknown_samples(const struct answer *a, int n, uid_t uid)
{
	size_t k;
	int i;

	head("uffd_unknown",
	     "An answer the probe could not determine (its metric and labels; the comment before it says why); such answers have no sample in their own family.");
	for (k = 0; k < N_FAMILIES; k++) {
		for (i = 0; i < n; i++) {
			if (strcmp(a[i].group, families[k].group) ||
			    a[i].value != TRI_UNKNOWN)
				continue;
			printf("# %s %s: ", families[k].metric, a[i].subject);
			put_oneline(a[i].reason);
			printf("\nuffd_unknown{");
			label("metric", families[k].metric, true);
			answer_labels(&families[k], &a[i], uid, false);
			printf("} 1\n");
		}
	}
}

/* Bits UFFDIO_API reported that the domain table has no name for. */
static void unnamed_bits(const struct probe *p, uid_t uid)
{
	static const struct {
		enum uffd_mask_kind kind;
		const char *mask;
	} masks[] = { { MASK_FEATURES, "features" }, { MASK_IOCTLS, "ioctls" } };
	struct uffd_mask_names names;
	char bit[8], id[16];
	unsigned int i;
	size_t k;

	head("uffd_unnamed_bit",
	     "A bit UFFDIO_API reported that this probe has no name for (newer kernel).");
	if (p->api_v.status != TRI_YES)
		return;
	snprintf(id, sizeof(id), "%u", uid);
	for (k = 0; k < sizeof(masks) / sizeof(masks[0]); k++) {
		uint64_t mask = masks[k].kind == MASK_FEATURES ? p->features :
								 p->ioctls;

		uffd_mask_split(masks[k].kind, mask, true, &names);
		for (i = 0; i < names.n; i++) {
			if (names.known[i])
				continue;
			snprintf(bit, sizeof(bit), "%u", names.bit[i]);
			printf("uffd_unnamed_bit{");
			label("mask", masks[k].mask, true);
			label("bit", bit, false);
			label("uid", id, false);
			printf("} 1\n");
		}
	}
}

static void probe_info(const struct probe *p)
{
	char num[16];

	head("uffd_probe_info",
	     "The probe that wrote these metrics: its version, the kernel, and the identity probed (view: caller, unprivileged or as-user).");
	printf("uffd_probe_info{");
	label("version", FAULTLINE_VERSION, true);
	label("kernel", p->uts.release, false);
	label("machine", p->uts.machine, false);
	label("view", probe_view(p), false);
	snprintf(num, sizeof(num), "%u", p->euid);
	label("uid", num, false);
	snprintf(num, sizeof(num), "%u", p->egid);
	label("gid", num, false);
	printf("} 1\n");
}

void render_prometheus(const struct probe *p)
{
	static struct answer a[ANSWER_MAX];
	int n = probe_answers(p, a, ANSWER_MAX);
	size_t k;

	probe_info(p);
	for (k = 0; k < N_FAMILIES; k++)
		family_samples(&families[k], a, n, p->euid);
	unknown_samples(a, n, p->euid);
	unnamed_bits(p, p->euid);
}
