// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: what userfaultfd can do on this kernel for this process,
 * and why not. Read-only and fast: a few dozen syscalls, no thread, no
 * page populated, no global state changed.
 *
 * Exit: 0 probed (or --require/--profile satisfied), 1 --require/--profile
 * not satisfied, 2 bad usage, --output not writable or --as-user not
 * possible.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "output.h"
#include "probe.h"

/* The report formats; text is rendered with colour when asked. */
static const struct {
	const char *name;
	void (*render)(const struct probe *p);
} formats[] = {
	{ "text", NULL },
	{ "json", render_json },
	{ "header", render_header },
	{ "shell", render_shell },
	{ "prometheus", render_prometheus },
	{ "nfd", render_nfd },
};
#define N_FORMATS	((int)(sizeof(formats) / sizeof(formats[0])))

/* What the user asked for: the probe, its report and the checks. */
struct request {
	struct probe *p;
	int fmt;		/* index into formats[] */
	bool fmt_set, colour;
	char req[FACT_MAX][48], prof[PROFILE_MAX][48];
	int nreq, nprof;
	FILE *verdict_out;	/* --require/--profile lines */
};

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
		"usage: uffd-probe [--format FORMAT | --json | --header | --shell]\n"
		"                  [--output FILE] [--as-user USER[:GROUP] | --unprivileged]\n"
		"                  [--require NAME[,NAME...]] [--profile NAME[,NAME...]]\n"
		"                  [--dev PATH] [--config PATH] [--no-color] [--list]\n"
		"                  [--help] [--version]\n"
		"\n"
		"What userfaultfd can do on this kernel for this process, and why not.\n"
		"\n"
		"  --format FORMAT  the report's format:\n"
		"      text         human-readable (the default; colour on a terminal)\n"
		"      json         machine-readable, probes/SCHEMA.md (also --json)\n"
		"      header       C header: #define UFFD_HAVE_<NAME> 1 (also --header)\n"
		"      shell        sh assignments: UFFD_HAVE_<NAME>=1|0 (also --shell)\n"
		"      prometheus   Prometheus text format for node_exporter's textfile\n"
		"                   collector: uffd_feature{name=\"MOVE\",uid=\"0\"} 1, ...;\n"
		"                   1 yes, 0 no; an answer the probe could not determine\n"
		"                   has no sample but a uffd_unknown one\n"
		"      nfd          Kubernetes Node Feature Discovery feature file:\n"
		"                   feature.node.kubernetes.io/uffd.move=true, ...;\n"
		"                   true, false, or unknown\n"
		"  --output FILE    write the report to FILE atomically: a temporary file\n"
		"                   beside it (a dot file), renamed over FILE when complete;\n"
		"                   mode 0644; any format; --require/--profile lines then\n"
		"                   go to standard output\n"
		"  --as-user USER[:GROUP]\n"
		"                   probe what a process of that user gets: fork, set the\n"
		"                   user's supplementary groups (group database; none for\n"
		"                   a uid without a passwd entry), the gid (GROUP, else the\n"
		"                   user's primary group) and the uid, drop every\n"
		"                   capability (bounding and ambient sets too), set\n"
		"                   no_new_privs, and probe and report in the child.\n"
		"                   USER and GROUP are numbers or names. Needs root\n"
		"  --unprivileged   drop CAP_SYS_PTRACE before probing (same uid)\n"
		"  --require LIST   exit 0 if every named fact holds, else 1\n"
		"  --profile LIST   exit 0 if every named consumer profile is met, else 1\n"
		"  --dev PATH       device node to try instead of /dev/userfaultfd\n"
		"  --config PATH    kernel config (plain or gzip) instead of\n"
		"                   /boot/config-$(uname -r) or /proc/config.gz\n"
		"  --no-color       no colour in the text report (also NO_COLOR=1)\n"
		"  --list           list fact and profile names\n"
		"exit: 0 ok / satisfied; 1 not satisfied, or unknown; 2 usage error,\n"
		"      --output cannot be written, or --as-user cannot take the identity\n");
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

static void set_format(struct request *rq, const char *name)
{
	int i;

	for (i = 0; i < N_FORMATS && strcmp(formats[i].name, name); i++)
		;
	if (i == N_FORMATS) {
		fprintf(stderr, "uffd-probe: unknown format '%s'; formats:", name);
		for (i = 0; i < N_FORMATS; i++)
			fprintf(stderr, " %s", formats[i].name);
		fprintf(stderr, "\n");
		exit(2);
	}
	if (rq->fmt_set && rq->fmt != i) {
		fprintf(stderr, "uffd-probe: choose one format (--format, --json, --header, --shell)\n");
		exit(2);
	}
	rq->fmt = i;
	rq->fmt_set = true;
}

/* Probe, report and check: the exit code (run in the child by --as-user). */
static int probe_and_report(void *arg)
{
	struct request *rq = arg;
	struct probe *p = rq->p;
	bool ok = true;

	probe_run(p);
	probe_release(p);
	if (rq->fmt_set || (!rq->nreq && !rq->nprof)) {
		if (formats[rq->fmt].render)
			formats[rq->fmt].render(p);
		else
			render_text(p, rq->colour && isatty(STDOUT_FILENO) &&
					!getenv("NO_COLOR"));
	}
	errno = 0;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "uffd-probe: writing the report: %s\n",
			strerror(errno ? errno : EIO));
		return 2;
	}
	if (rq->nreq)
		ok &= check_require(p, rq->req, rq->nreq, rq->verdict_out);
	if (rq->nprof)
		ok &= check_profiles(p, rq->prof, rq->nprof, rq->verdict_out);
	fflush(rq->verdict_out);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "header", no_argument, NULL, 'H' },
		{ "shell", no_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "as-user", required_argument, NULL, 'a' },
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
	static struct request rq = { .p = &p, .colour = true };
	static struct identity id;
	const char *output = NULL, *as_user = NULL;
	struct output out;
	char err[REASON_LEN];
	int c, code;

	opterr = 0;
	p.dev_node = "/dev/userfaultfd";
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': set_format(&rq, optarg); break;
		case 'j': set_format(&rq, "json"); break;
		case 'H': set_format(&rq, "header"); break;
		case 's': set_format(&rq, "shell"); break;
		case 'o': output = optarg; break;
		case 'a': as_user = optarg; break;
		case 'r':
			rq.nreq += parse_list(optarg, false, rq.req + rq.nreq,
					      FACT_MAX - rq.nreq);
			break;
		case 'p':
			rq.nprof += parse_list(optarg, true, rq.prof + rq.nprof,
					       PROFILE_MAX - rq.nprof);
			break;
		case 'u': p.unprivileged = true; break;
		case 'd': p.dev_node = optarg; break;
		case 'c': p.config_path = optarg; break;
		case 'C': rq.colour = false; break;
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
	if (as_user && p.unprivileged) {
		fprintf(stderr, "uffd-probe: --as-user drops every capability already; leave out --unprivileged\n");
		return 2;
	}
	if (as_user && identity_parse(as_user, &id, err, sizeof(err))) {
		fprintf(stderr, "uffd-probe: --as-user %s: %s\n", as_user, err);
		return 2;
	}
	if (as_user)
		snprintf(p.as_user, sizeof(p.as_user), "%s", as_user);
	if (p.unprivileged && probe_drop_ptrace(&p)) {
		fprintf(stderr, "uffd-probe: %s\n", p.unpriv_drop.reason);
		return 2;
	}
	if (output && output_begin(&out, output))
		return 2;

	/* With a report format on stdout, verdicts go to stderr. */
	rq.verdict_out = output ? out.console : rq.fmt_set ? stderr : stdout;
	code = as_user ? identity_run(&id, probe_and_report, &rq) :
			 probe_and_report(&rq);
	if (output) {
		/* Only a complete report replaces the old one. */
		if (code <= 1 && output_commit(&out))
			code = 2;
		else if (code > 1)
			output_abort(&out);
	}
	return code;
}
