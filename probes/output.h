/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-probe --output FILE: the report is written to a temporary file in
 * FILE's directory and renamed over FILE once complete, so a reader
 * (node_exporter's textfile collector, NFD's local source) sees the old
 * report or the new one, never a part.
 */
#ifndef FAULTLINE_PROBE_OUTPUT_H
#define FAULTLINE_PROBE_OUTPUT_H

#include <limits.h>
#include <stdio.h>

struct output {
	const char *path;	/* FILE */
	char tmp[PATH_MAX];	/* "<dir>/.<name>.XXXXXX" */
	int console_fd;		/* the original standard output */
	FILE *console;		/* ... as a stream, for the verdict lines */
};

/*
 * Create the temporary file and make it standard output (mode 0644, so
 * that a collector running as another user can read it). 0, or -errno
 * with a message on stderr.
 */
int output_begin(struct output *o, const char *path);

/* Flush, sync and rename over FILE; restore standard output. 0 or -errno. */
int output_commit(struct output *o);

/* Remove the temporary file; restore standard output. */
void output_abort(struct output *o);

#endif /* FAULTLINE_PROBE_OUTPUT_H */
