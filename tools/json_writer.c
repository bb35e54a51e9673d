// SPDX-License-Identifier: GPL-2.0
/*
 * json_writer: drive the library's JSON writer (harness/json.c) from a
 * script on stdin, one call per line, for tests/test_json_writer.py:
 *
 *	open KEY {|[    close    str KEY TEXT    null KEY    int KEY N
 *	uint KEY N    num KEY X    bool KEY 0|1    raw KEY JSON    digits N
 *	strs KEY A B ...    hex KEY N (json_strf "0x%llx")
 *
 * KEY "-" is no key (an array item, the top level); TEXT may hold \xNN
 * escapes for raw bytes. Prints the document and a newline (exit 0), or
 * "failed" (exit 1) when json_end() says it could not be written whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* \xNN escapes of @s into raw bytes, in place; the new length. */
static size_t unescape(char *s)
{
	char *out = s, *in = s;

	while (*in) {
		if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
			char hex[3] = { in[2], in[3], 0 };

			*out++ = (char)strtoul(hex, NULL, 16);
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static void strs(struct json *j, const char *key, char *rest)
{
	const char *v[32];
	int n = 0;
	char *tok;

	for (tok = strtok(rest, " "); tok && n < 32; tok = strtok(NULL, " "))
		v[n++] = tok;
	json_str_array(j, key, v, n);
}

static void call(struct json *j, char *line)
{
	char *op = strtok(line, " "), *k = strtok(NULL, " ");
	char *rest = strtok(NULL, "");
	const char *key = k && strcmp(k, "-") ? k : NULL;
	size_t n;

	if (!op)
		return;
	if (!rest)
		rest = "";
	if (!strcmp(op, "open"))
		json_open(j, key, rest[0]);
	else if (!strcmp(op, "close"))
		json_close(j);
	else if (!strcmp(op, "str")) {
		n = unescape(rest);
		json_strn(j, key, rest, n);
	} else if (!strcmp(op, "null"))
		json_null(j, key);
	else if (!strcmp(op, "int"))
		json_int(j, key, strtoll(rest, NULL, 10));
	else if (!strcmp(op, "uint"))
		json_uint(j, key, strtoull(rest, NULL, 10));
	else if (!strcmp(op, "num"))
		json_num(j, key, strtod(rest, NULL));
	else if (!strcmp(op, "bool"))
		json_bool(j, key, atoi(rest));
	else if (!strcmp(op, "raw"))
		json_raw(j, key, rest);
	else if (!strcmp(op, "digits"))
		j->digits = atoi(k);
	else if (!strcmp(op, "strs"))
		strs(j, key, rest);
	else if (!strcmp(op, "hex"))
		json_strf(j, key, "0x%llx", strtoull(rest, NULL, 10));
}

int main(void)
{
	char line[4096];
	const char *text;
	struct json j;

	json_init(&j);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		call(&j, line);
	}
	text = json_end(&j);
	if (!text) {
		puts("failed");
		return 1;
	}
	printf("%s\n", text);
	json_free(&j);
	return 0;
}
