// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: --output FILE, written atomically (see output.h).
 *
 * The temporary name starts with a dot and ends in random letters: NFD's
 * local source skips dot files and node_exporter reads only *.prom, so
 * neither picks up a report being written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

static int fail(const struct output *o, const char *what, int err)
{
	fprintf(stderr, "uffd-probe: --output %s: %s: %s\n", o->path, what,
		strerror(err));
	return -err;
}

/* "<dir>/.<base>.XXXXXX" for @path, or -errno. */
static int temp_name(struct output *o)
{
	const char *slash = strrchr(o->path, '/');
	const char *base = slash ? slash + 1 : o->path;
	int dirlen = slash ? (int)(slash - o->path) + 1 : 0;
	int n;

	if (!*base)
		return -EISDIR;
	n = snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", dirlen,
		     o->path, base);
	return n < 0 || (size_t)n >= sizeof(o->tmp) ? -ENAMETOOLONG : 0;
}

int output_begin(struct output *o, const char *path)
{
	struct stat st;
	int fd, ret;

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->console_fd = -1;
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return fail(o, "not a file", EISDIR);
	ret = temp_name(o);
	if (ret)
		return fail(o, "file name", -ret);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(o, "cannot create a file beside it", errno);
	if (fchmod(fd, 0644)) {
		ret = fail(o, "chmod", errno);
		goto undo;
	}
	fflush(stdout);
	o->console_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (o->console_fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		ret = fail(o, "redirect", errno);
		goto undo;
	}
	close(fd);
	o->console = fdopen(o->console_fd, "w");
	if (!o->console) {
		ret = fail(o, "fdopen", errno);
		output_abort(o);
		return ret;
	}
	return 0;
undo:
	close(fd);
	unlink(o->tmp);
	if (o->console_fd >= 0)
		close(o->console_fd);
	o->console_fd = -1;
	return ret;
}

/* Standard output back to what it was before output_begin(). */
static void restore(struct output *o)
{
	if (o->console) {
		fflush(o->console);
		dup2(o->console_fd, STDOUT_FILENO);
		fclose(o->console);
	} else if (o->console_fd >= 0) {
		dup2(o->console_fd, STDOUT_FILENO);
		close(o->console_fd);
	}
	o->console = NULL;
	o->console_fd = -1;
}

int output_commit(struct output *o)
{
	int err = 0;

	errno = 0;
	if (fflush(stdout) || ferror(stdout))
		err = errno ? errno : EIO;
	else if (fsync(STDOUT_FILENO))
		err = errno;
	restore(o);
	if (!err && rename(o->tmp, o->path))
		err = errno;
	if (!err)
		return 0;
	unlink(o->tmp);
	return fail(o, "write", err);
}

void output_abort(struct output *o)
{
	fflush(stdout);
	restore(o);
	unlink(o->tmp);
}
