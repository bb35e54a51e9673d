/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line of a wrapper tool: "TOOL [--NAME VALUE]... -- CMD [ARG...]".
 */
#ifndef FAULTLINE_WRAPPER_ARGS_H
#define FAULTLINE_WRAPPER_ARGS_H

#include <string.h>

/*
 * Hand each "--NAME VALUE" pair before "--" to @opt (it returns 0 when it
 * took the pair). Returns the index of CMD in @argv, or -1 on bad usage:
 * an option @opt refuses, one without a value, or no command at all.
 */
static inline int wrapper_args(int argc, char **argv,
			       int (*opt)(const char *name, const char *value,
					  void *ctx),
			       void *ctx)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (i + 1 >= argc || opt(argv[i], argv[i + 1], ctx))
			return -1;
		i++;
	}
	return -1;
}

#endif /* FAULTLINE_WRAPPER_ARGS_H */
