// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the flat list of named facts (features, ioctls, access
 * paths, register modes) that --header, --shell and --require use, and
 * what each feature needs from the kernel.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe.h"

struct feature_meta {
	const char *since;
	const char *config;	/* NULL: CONFIG_USERFAULTFD is enough */
};

static const struct feature_meta feature_meta[FL_KNOWN_FEATURE_BITS] = {
	{ "Linux >= 5.7, x86-64 first", "CONFIG_HAVE_ARCH_USERFAULTFD_WP" },
	{ "Linux >= 4.11", NULL },
	{ "Linux >= 4.11", NULL },
	{ "Linux >= 4.11", NULL },
	{ "Linux >= 4.11", "CONFIG_HUGETLBFS" },
	{ "Linux >= 4.11", "CONFIG_SHMEM" },
	{ "Linux >= 4.11", NULL },
	{ "Linux >= 4.14", NULL },
	{ "Linux >= 4.14", NULL },
	{ "Linux >= 5.13", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR" },
	{ "Linux >= 5.14", "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR" },
	{ "Linux >= 5.18", NULL },
	{ "Linux >= 5.19", "CONFIG_PTE_MARKER_UFFD_WP" },
	{ "Linux >= 6.4", "CONFIG_PTE_MARKER_UFFD_WP" },
	{ "Linux >= 6.6", NULL },
	{ "Linux >= 6.7", "CONFIG_PTE_MARKER_UFFD_WP" },
	{ "Linux >= 6.8, 64-bit", NULL },
};

const char *feature_since(unsigned int bit)
{
	return bit < FL_KNOWN_FEATURE_BITS ? feature_meta[bit].since : "?";
}

const char *feature_config(unsigned int bit)
{
	return bit < FL_KNOWN_FEATURE_BITS ? feature_meta[bit].config : NULL;
}

/* Ioctl bits worth a fact (the API's own bit is always there). */
static const unsigned int ioctl_bits[] = {
	_UFFDIO_REGISTER, _UFFDIO_UNREGISTER, _UFFDIO_WAKE, _UFFDIO_COPY,
	_UFFDIO_ZEROPAGE, _UFFDIO_MOVE, _UFFDIO_WRITEPROTECT,
	_UFFDIO_CONTINUE, _UFFDIO_POISON,
};
#define N_IOCTL_BITS (sizeof(ioctl_bits) / sizeof(ioctl_bits[0]))

static const char *const access_facts[] = {
	"SYSCALL", "USER_MODE_ONLY", "DEV_USERFAULTFD", "KERNEL_FAULTS",
	"EVENT_FORK_ALLOWED",
};
#define N_ACCESS_FACTS (sizeof(access_facts) / sizeof(access_facts[0]))

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* The names, in the order facts_build() produces them. */
int fact_names(char names[][48], int max)
{
	unsigned int i, n = 0, m;

	for (i = 0; i < N_ACCESS_FACTS && (int)n < max; i++)
		snprintf(names[n++], 48, "%s", access_facts[i]);
	for (i = 0; i < FL_KNOWN_FEATURE_BITS && (int)n < max; i++)
		snprintf(names[n++], 48, "%s", uffd_feature_name(i));
	for (i = 0; i < N_IOCTL_BITS && (int)n < max; i++)
		snprintf(names[n++], 48, "IOCTL_%s",
			 uffd_ioctl_name(ioctl_bits[i]));
	for (i = 0; i < MEM_TYPE_NR; i++) {
		for (m = 0; m < 3 && (int)n < max; m++) {
			snprintf(names[n], 48, "REGISTER_%s_%s",
				 mem_type_name(i), reg_mode_name(1ull << m));
			upper(names[n++]);
		}
	}
	return (int)n;
}

static void put(struct fact *f, const char *group, enum tri v,
		const char *reason)
{
	f->group = group;
	f->value = v;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static void feature_fact(const struct probe *p, struct fact *f,
			 unsigned int bit)
{
	char why[REASON_LEN], cause[REASON_LEN - 32];

	if (p->api_v.status != TRI_YES) {
		put(f, "feature", TRI_UNKNOWN, p->api_v.reason);
		return;
	}
	if (p->features & (1ull << bit)) {
		put(f, "feature", TRI_YES, "reported by UFFDIO_API");
		return;
	}
	feature_absence(p, bit, cause, sizeof(cause));
	snprintf(why, sizeof(why), "not reported by UFFDIO_API (%s)", cause);
	put(f, "feature", TRI_NO, why);
}

/* An ioctl is there if the API or any accepted REGISTER returned it. */
static void ioctl_fact(const struct probe *p, struct fact *f,
		       unsigned int bit)
{
	uint64_t all = p->ioctls;
	int t, m;

	if (p->api_v.status != TRI_YES) {
		put(f, "ioctl", TRI_UNKNOWN, p->api_v.reason);
		return;
	}
	for (t = 0; t < MEM_TYPE_NR; t++)
		for (m = 0; m < REG_MODE_NR; m++)
			if (p->reg[t][m].v.status == TRI_YES)
				all |= p->reg[t][m].ioctls;
	if (all & (1ull << bit))
		put(f, "ioctl", TRI_YES,
		    "in the UFFDIO_API or a REGISTER ioctl mask");
	else
		put(f, "ioctl", TRI_NO,
		    "in no ioctl mask (API or any accepted REGISTER)");
}

int facts_build(const struct probe *p, struct fact *facts, int max)
{
	char names[FACT_MAX][48];
	int n = fact_names(names, max < FACT_MAX ? max : FACT_MAX);
	int i, k = 0;
	unsigned int j;

	for (i = 0; i < n; i++)
		memcpy(facts[i].name, names[i], sizeof(facts[i].name));
	for (j = 0; j < UFFD_PATH_NR; j++, k++)
		put(&facts[k], "access", p->access[j].status,
		    p->access[j].reason);
	put(&facts[k], "access", p->kernel_faults.status,
	    p->kernel_faults.reason);
	k++;
	put(&facts[k], "access", p->fork_allowed.status,
	    p->fork_allowed.reason);
	k++;
	for (j = 0; j < FL_KNOWN_FEATURE_BITS; j++)
		feature_fact(p, &facts[k++], j);
	for (j = 0; j < N_IOCTL_BITS; j++)
		ioctl_fact(p, &facts[k++], ioctl_bits[j]);
	for (i = 0; i < MEM_TYPE_NR; i++) {
		/* reg_modes[0..2] are the single modes. */
		for (j = 0; j < 3; j++, k++)
			put(&facts[k], "register", p->reg[i][j].v.status,
			    p->reg[i][j].v.reason);
	}
	return k;
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
