// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: what userfaultfd can do on this kernel for this process,
 * and why not. Read-only and fast: a few dozen syscalls, no thread, no
 * page populated, no global state changed.
 *
 * Exit: 0 probed (or --require/--profile satisfied), 1 --require/--profile
 * not satisfied, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

enum format { FMT_TEXT, FMT_JSON, FMT_HEADER, FMT_SHELL };

/*
 * The probe table: each step fills its part of struct probe. The config
 * comes before access because the diagnosis uses it; facts and profiles
 * come last because they are derived from everything before.
 */
static const struct {
	const char *name;
	void (*run)(struct probe *p);
} probe_table[] = {
	{ "environment", probe_env },
	{ "config", probe_config },
	{ "access", probe_access },
	{ "api", probe_api },
	{ "register", probe_register },
	{ "facts", probe_facts },
	{ "profiles", probe_profiles },
};

void probe_run(struct probe *p)
{
	size_t i;

	for (i = 0; i < sizeof(probe_table) / sizeof(probe_table[0]); i++)
		probe_table[i].run(p);
}

void probe_release(struct probe *p)
{
	if (p->work_fd >= 0)
		close(p->work_fd);
	p->work_fd = -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uffd-probe [--json|--header|--shell] [--unprivileged]\n"
		"                  [--require NAME[,NAME...]] [--profile NAME[,NAME...]]\n"
		"                  [--dev PATH] [--config PATH] [--no-color] [--list]\n"
		"                  [--help] [--version]\n"
		"\n"
		"  (default)        human-readable report\n"
		"  --json           machine-readable report (probes/SCHEMA.md)\n"
		"  --header         C header: #define UFFD_HAVE_<NAME> 1\n"
		"  --shell          sh assignments: UFFD_HAVE_<NAME>=1|0\n"
		"  --require LIST   exit 0 if every named fact holds, else 1\n"
		"  --profile LIST   exit 0 if every named consumer profile is met, else 1\n"
		"  --unprivileged   drop CAP_SYS_PTRACE before probing\n"
		"  --dev PATH       device node to try instead of /dev/userfaultfd\n"
		"  --config PATH    kernel config (plain or gzip) instead of\n"
		"                   /boot/config-$(uname -r) or /proc/config.gz\n"
		"  --list           list fact and profile names\n"
		"exit: 0 ok / satisfied, 1 not satisfied, 2 usage error\n");
}

static void list_facts(FILE *f, const char *indent)
{
	char names[FACT_MAX][48];
	int n = fact_names(names, FACT_MAX), i, col = 0;

	fprintf(f, "%s", indent);
	for (i = 0; i < n; i++) {
		int w = (int)strlen(names[i]) + 1;

		if (col && col + w > 72) {
			fprintf(f, "\n%s", indent);
			col = 0;
		}
		fprintf(f, "%s%s", col ? " " : "", names[i]);
		col += w;
	}
	fprintf(f, "\n");
}

static void list_profiles(FILE *f, const char *indent)
{
	int i;

	fprintf(f, "%s", indent);
	for (i = 0; i < profile_count(); i++)
		fprintf(f, "%s%s", profile_name(i),
			i + 1 < profile_count() ? " " : "\n");
}

static int find_fact(const char *name)
{
	char names[FACT_MAX][48];
	int n = fact_names(names, FACT_MAX), i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* Split @list on commas into normalized names; exit 2 on a bad one. */
static int parse_list(const char *list, bool profiles, char out[][48],
		      int max)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			break;
		if (profiles) {
			snprintf(out[n], 48, "%s", tok);
			if (profile_find(out[n]) < 0) {
				fprintf(stderr, "uffd-probe: unknown profile '%s'; valid profiles:\n",
					tok);
				list_profiles(stderr, "  ");
				exit(2);
			}
		} else {
			fact_normalize(tok, out[n], 48);
			if (find_fact(out[n]) < 0) {
				fprintf(stderr, "uffd-probe: unknown feature or fact '%s'; valid names:\n",
					tok);
				list_facts(stderr, "  ");
				exit(2);
			}
		}
		n++;
	}
	free(copy);
	if (!n) {
		fprintf(stderr, "uffd-probe: empty %s list\n",
			profiles ? "--profile" : "--require");
		exit(2);
	}
	return n;
}

static bool check_require(const struct probe *p, char names[][48], int n,
			  FILE *out)
{
	bool ok = true;
	int i;

	for (i = 0; i < n; i++) {
		const struct fact *f = fact_find(p, names[i]);

		if (!f)
			continue;
		if (f->value == TRI_YES) {
			fprintf(out, "ok: %s\n", names[i]);
		} else {
			fprintf(out, "missing: %s (%s): %s\n", names[i],
				tri_name(f->value), f->reason);
			ok = false;
		}
	}
	return ok;
}

static bool check_profiles(const struct probe *p, char names[][48], int n,
			   FILE *out)
{
	bool ok = true;
	int i, j;

	for (i = 0; i < n; i++) {
		const struct profile_result *r =
			&p->profiles[profile_find(names[i])];

		fprintf(out, "%s: %s (%s)\n", r->name,
			r->status == TRI_YES ? "ok" : tri_name(r->status),
			r->title);
		for (j = 0; j < r->nmissing; j++)
			fprintf(out, "  missing: %s\n  fix: %s\n",
				r->missing[j], r->fix[j]);
		ok &= r->status == TRI_YES;
	}
	return ok;
}

static void set_format(enum format *fmt, enum format want, bool *set)
{
	if (*set && *fmt != want) {
		fprintf(stderr, "uffd-probe: choose one of --json, --header, --shell\n");
		exit(2);
	}
	*fmt = want;
	*set = true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "header", no_argument, NULL, 'H' },
		{ "shell", no_argument, NULL, 's' },
		{ "require", required_argument, NULL, 'r' },
		{ "profile", required_argument, NULL, 'p' },
		{ "unprivileged", no_argument, NULL, 'u' },
		{ "dev", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static struct probe p;
	char req[FACT_MAX][48], prof[16][48];
	int nreq = 0, nprof = 0, c;
	enum format fmt = FMT_TEXT;
	bool fmt_set = false, colour = true, ok = true;
	FILE *verdict_out;

	opterr = 0;
	p.dev_node = "/dev/userfaultfd";
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': set_format(&fmt, FMT_JSON, &fmt_set); break;
		case 'H': set_format(&fmt, FMT_HEADER, &fmt_set); break;
		case 's': set_format(&fmt, FMT_SHELL, &fmt_set); break;
		case 'r':
			nreq += parse_list(optarg, false, req + nreq,
					   FACT_MAX - nreq);
			break;
		case 'p':
			nprof += parse_list(optarg, true, prof + nprof,
					    16 - nprof);
			break;
		case 'u': p.unprivileged = true; break;
		case 'd': p.dev_node = optarg; break;
		case 'c': p.config_path = optarg; break;
		case 'C': colour = false; break;
		case 'l':
			printf("facts (--require, UFFD_HAVE_<NAME>):\n");
			list_facts(stdout, "  ");
			printf("profiles (--profile):\n");
			list_profiles(stdout, "  ");
			return 0;
		case 'h': usage(stdout); return 0;
		case 'V': printf("uffd-probe %s (JSON schema %d)\n",
				 FAULTLINE_VERSION, PROBE_SCHEMA_VERSION);
			  return 0;
		case ':':
			fprintf(stderr, "uffd-probe: option '%s' needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "uffd-probe: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uffd-probe: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	/* A config the user named must exist: "unknown" would hide a typo. */
	if (p.config_path && access(p.config_path, R_OK)) {
		fprintf(stderr, "uffd-probe: --config %s: %s\n", p.config_path,
			strerror(errno));
		return 2;
	}
	if (p.unprivileged && probe_drop_ptrace(&p)) {
		fprintf(stderr, "uffd-probe: %s\n", p.unpriv_drop.reason);
		return 2;
	}

	probe_run(&p);
	probe_release(&p);

	/* With a report format, verdicts go to stderr to keep it parsable. */
	verdict_out = fmt_set ? stderr : stdout;
	if (fmt_set || (!nreq && !nprof)) {
		switch (fmt) {
		case FMT_JSON: render_json(&p); break;
		case FMT_HEADER: render_header(&p); break;
		case FMT_SHELL: render_shell(&p); break;
		default:
			render_text(&p, colour && isatty(STDOUT_FILENO) &&
					!getenv("NO_COLOR"));
		}
	}
	if (nreq)
		ok &= check_require(&p, req, nreq, verdict_out);
	if (nprof)
		ok &= check_profiles(&p, prof, nprof, verdict_out);
	fflush(stdout);
	return ok ? 0 : 1;
}
