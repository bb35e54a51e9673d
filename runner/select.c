// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: --only and --skip, choosing test points before
 * anything runs.
 *
 * Each binary lists its own points (the kselftest harness's -l), a point
 * id being <fixture>[.<variant>].<test> as its TAP lines name it. A point
 * is selected when an --only glob matches its whole id (fnmatch(3): '*'
 * also crosses dots), or there is no --only, and no --skip glob matches
 * it (run.py --skipfile reports the skipped points, with the skipfile's
 * reason: the runner only leaves them out). A binary with no selected
 * point is dropped from the run; one with some gets "-r <id>" for each
 * (the harness runs just those); one with all of them runs as it is. A
 * binary that cannot list its points runs whole and says why in its
 * binary-begin frame: a selection must never lose a point silently.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* Listing is quick: a binary that takes longer is not listing. */
#define LIST_TIMEOUT_S	10.0
/* The harness's -l columns: "%-20s %-25s %s" (a longer name pushes on). */
#define FIXTURE_WIDTH	20
#define VARIANT_WIDTH	25

struct names {
	char **v;
	int n, cap;
};

static int names_add(struct names *l, const char *s, size_t len)
{
	return strv_add(&l->v, &l->n, &l->cap, s, len);
}

static void names_free(struct names *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What one binary's -l said, fixture by fixture. */
struct listing {
	struct names fixture, variants, tests;	/* the fixture being read */
	struct names points;			/* ids, in run order */
	bool header;				/* "# FIXTURE ..." seen */
	int err;
};

/* Every variant x every test of the fixture read so far, as the harness runs them. */
static void listing_flush(struct listing *ls)
{
	char id[1024];
	int v, t, nv = ls->variants.n ? ls->variants.n : 1;

	for (v = 0; ls->fixture.n && v < nv; v++) {
		for (t = 0; t < ls->tests.n && !ls->err; t++) {
			snprintf(id, sizeof(id), "%s%s%s.%s", ls->fixture.v[0],
				 ls->variants.n ? "." : "",
				 ls->variants.n ? ls->variants.v[v] : "",
				 ls->tests.v[t]);
			ls->err = names_add(&ls->points, id, strlen(id));
		}
	}
	names_free(&ls->fixture);
	names_free(&ls->variants);
	names_free(&ls->tests);
}

/*
 * One column of a -l row at *@pos, @width wide unless its name is longer;
 * its name (possibly empty) into @name/@len, *@pos past it and its blank.
 */
static void column(const char *row, size_t rowlen, size_t *pos, size_t width,
		   const char **name, size_t *len)
{
	size_t p = *pos, n = 0;

	while (p + n < rowlen && row[p + n] != ' ')
		n++;
	*name = row + p;
	*len = n;
	*pos = p + (n > width ? n : width) + 1;
}

/* One line the binary wrote while listing (stdout or stderr). */
static void listing_line(void *ctx, const char *line, size_t len)
{
	struct listing *ls = ctx;
	const char *name;
	size_t pos = 0, n;

	if (len >= 9 && !memcmp(line, "# FIXTURE", 9)) {
		ls->header = true;
		return;
	}
	if (!ls->header || ls->err)
		return;
	if (len && strspn(line, "-") == len) {
		listing_flush(ls);	/* the separator between fixtures */
		return;
	}
	column(line, len, &pos, FIXTURE_WIDTH, &name, &n);
	if (n && !ls->err)
		ls->err = names_add(&ls->fixture, name, n);
	if (pos >= len)
		return;
	column(line, len, &pos, VARIANT_WIDTH, &name, &n);
	if (n && !ls->err)
		ls->err = names_add(&ls->variants, name, n);
	if (pos >= len)
		return;
	name = line + pos;
	n = len - pos;
	while (n && name[n - 1] == ' ')
		n--;
	if (n && !ls->err)
		ls->err = names_add(&ls->tests, name, n);
}

/*
 * The points of binary @path into @points; 0, the signal that interrupted
 * the runner meanwhile (> 0), or -1 with the reason in @why.
 */
static int list_binary(const struct opts *o, const char *path,
		       struct names *points, char *why, size_t len)
{
	char *argv[] = { (char *)path, "-l", NULL };
	struct listing ls;
	struct spawn_req req = {
		.path = path, .argv = argv,
		.timeout_s = o->timeout_s < LIST_TIMEOUT_S ? o->timeout_s
							    : LIST_TIMEOUT_S,
		.term_grace_s = o->term_grace_s,
		.out_line = listing_line, .err_line = listing_line, .ctx = &ls,
	};
	struct spawn_res res;

	memset(&ls, 0, sizeof(ls));
	spawn_run(&req, &res);
	listing_flush(&ls);
	*points = ls.points;
	if (res.interrupted)
		return res.interrupted;
	if (res.exec_errno)
		snprintf(why, len, "cannot execute it: %s", strerror(res.exec_errno));
	else if (res.timed_out)
		snprintf(why, len, "'-l' did not end within %g s", req.timeout_s);
	else if (ls.err)
		snprintf(why, len, "%s", strerror(-ls.err));
	else if (!ls.header)
		snprintf(why, len, "'-l' printed no kselftest list (exit %d, signal %d)",
			 res.exit_code, res.signal);
	else
		return 0;
	return -1;
}

bool selecting(const struct opts *o)
{
	return o->nonly || o->nskip;
}

bool select_matches(const struct opts *o, const char *id)
{
	int i;

	for (i = 0; i < o->nskip; i++)
		if (!fnmatch(o->skip[i], id, 0))
			return false;
	for (i = 0; i < o->nonly; i++)
		if (!fnmatch(o->only[i], id, 0))
			return true;
	return !o->nonly;
}

/* "-r id" for each selected point; NULL when all of them are (or none). */
static char **run_args(const struct opts *o, const struct names *points,
		       int *selected)
{
	char **args;
	int i, n = 0;

	*selected = 0;
	for (i = 0; i < points->n; i++)
		*selected += select_matches(o, points->v[i]);
	if (*selected == points->n || !*selected)
		return NULL;
	args = calloc((size_t)*selected * 2 + 1, sizeof(*args));
	if (!args) {
		*selected = points->n;	/* no memory to choose: it runs whole */
		return NULL;
	}
	for (i = 0; i < points->n; i++) {
		if (!select_matches(o, points->v[i]))
			continue;
		args[n++] = "-r";
		args[n++] = points->v[i];
		points->v[i] = NULL;	/* the argument owns it now */
	}
	return args;
}

/* Drop binary @i from the list: nothing of it was selected. */
static void drop_binary(struct binlist *l, int i)
{
	free(l->path[i]);
	memmove(&l->path[i], &l->path[i + 1],
		sizeof(l->path[0]) * (size_t)(l->n - i - 1));
	memmove(&l->sel[i], &l->sel[i + 1],
		sizeof(l->sel[0]) * (size_t)(l->n - i - 1));
	l->n--;
}

int select_points(struct runner *r)
{
	struct binlist *l = &r->bins;
	char why[512];
	struct names points;
	int i, ret;

	l->sel = calloc((size_t)l->n + 1, sizeof(*l->sel));
	if (!l->sel)
		return 0;	/* no memory to choose: everything runs */
	for (i = 0; i < l->n; ) {
		struct bin_select *s = &l->sel[i];

		ret = list_binary(r->o, l->path[i], &points, why, sizeof(why));
		if (ret > 0) {
			names_free(&points);
			return ret;
		}
		if (ret < 0) {
			s->points = -1;
			s->error = strdup(why);
			i++;
		} else {
			s->args = run_args(r->o, &points, &s->points);
			if (s->points)
				i++;
			else
				drop_binary(l, i);
		}
		names_free(&points);
	}
	return 0;
}

int select_list(struct runner *r)
{
	const struct binlist *l = &r->bins;
	char why[512];
	struct names points;
	int i, k, ret, rc = 0;

	for (i = 0; i < l->n; i++) {
		const char *name = strrchr(l->path[i], '/');

		name = name ? name + 1 : l->path[i];
		ret = list_binary(r->o, l->path[i], &points, why, sizeof(why));
		if (ret > 0) {
			names_free(&points);
			return 128 + ret;
		}
		if (ret < 0) {
			fprintf(stderr, "faultline-runner: %s: cannot list its points: %s\n",
				l->path[i], why);
			rc = 1;
		}
		for (k = 0; k < points.n; k++)
			if (select_matches(r->o, points.v[k]))
				printf("%s %s\n", name, points.v[k]);
		names_free(&points);
	}
	return fflush(stdout) ? 1 : rc;
}
