// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: Kubernetes Node Feature Discovery feature file (--format
 * nfd), for nfd-worker's local source, which reads every regular file in
 * /etc/kubernetes/node-feature-discovery/features.d/ (dot files ignored,
 * 64 KiB at most). Each line is <namespace>/<name>=<value> and becomes a
 * node label; lines starting with '#' are comments, except "# +" which
 * starts a directive, so no comment written here starts that way.
 *
 * Names are the domain table's (through probe_answers()), lower case, in
 * the namespace NFD owns (feature.node.kubernetes.io: an unprefixed name
 * is prefixed with it today, but NFD plans to stop doing so), and must be
 * valid label names: at most 63 characters of [a-z0-9._-], alphanumeric
 * at both ends. Values: true, false, or unknown when the probe could not
 * tell (a comment above the line says why), so a nodeSelector on "true"
 * never picks a node where the answer is in doubt.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define NFD_NAMESPACE	"feature.node.kubernetes.io/"
#define LABEL_NAME_MAX	63

/* Where each group's labels live under uffd. */
static const struct {
	const char *group;
	const char *prefix;
} prefixes[] = {
	{ "path", "uffd.path." },
	{ "access", "uffd." },
	{ "feature", "uffd." },
	{ "ioctl", "uffd.ioctl." },
	{ "register", "uffd.register." },
	{ "profile", "uffd.profile." },
};

/*
 * The label name of @a ("uffd.register.shmem.minor"), false when the group
 * has no prefix or the name is not a valid label name.
 */
static bool label_name(const struct answer *a, char *buf, size_t len)
{
	const char *prefix = NULL;
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strcmp(prefixes[i].group, a->group))
			prefix = prefixes[i].prefix;
	if (!prefix)
		return false;
	n = (size_t)snprintf(buf, len, "%s%s%s%s", prefix, a->subject,
			     a->mode ? "." : "", a->mode ? a->mode : "");
	if (n > LABEL_NAME_MAX || n >= len)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)buf[i]);

		buf[i] = isalnum(c) || c == '.' || c == '_' || c == '-' ?
			 (char)c : '-';
	}
	return isalnum((unsigned char)buf[0]) &&
	       isalnum((unsigned char)buf[n - 1]);
}

static const char *label_value(enum tri t)
{
	return t == TRI_YES ? "true" : t == TRI_NO ? "false" : "unknown";
}

void render_nfd(const struct probe *p)
{
	static struct answer a[ANSWER_MAX];
	int n = probe_answers(p, a, ANSWER_MAX), i;
	char name[LABEL_NAME_MAX + 16];

	printf("# uffd-probe %s: userfaultfd on Linux ", FAULTLINE_VERSION);
	put_oneline(p->uts.release);
	printf(" ");
	put_oneline(p->uts.machine);
	printf(" for uid %u gid %u (view: %s)\n", p->euid, p->egid,
	       probe_view(p));
	printf("# Node Feature Discovery feature file (local source): true, false, or\n"
	       "# unknown when the probe could not tell (the reason is above the line)\n");
	for (i = 0; i < n; i++) {
		if (!label_name(&a[i], name, sizeof(name))) {
			printf("# no valid label name for %s %s\n", a[i].group,
			       a[i].subject);
			continue;
		}
		if (a[i].value == TRI_UNKNOWN) {
			printf("# %s unknown: ", name);
			put_oneline(a[i].reason);
			putchar('\n');
		}
		printf("%s%s=%s\n", NFD_NAMESPACE, name, label_value(a[i].value));
	}
}
