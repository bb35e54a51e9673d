/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline: one compact JSON writer for every program that speaks JSON
 * (the runner's frames, uffd-probe --json, uffd-bench --json).
 *
 * The document grows in memory; the writer keeps, per nesting level,
 * whether a member was written, so commas come out right whatever the
 * caller's loops skip. A @key of NULL writes a bare value: an array's
 * item, or the top level. Strings are valid UTF-8 JSON: '"' and '\' are
 * escaped, control bytes and DEL become \u00XX, bytes that are not UTF-8
 * become U+FFFD. Out of memory (or nesting deeper than JSON_DEPTH_MAX) is
 * remembered and reported once, by json_end().
 */
#ifndef FAULTLINE_JSON_H
#define FAULTLINE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_DEPTH_MAX	16

struct json {
	char *p;
	size_t len, cap;
	bool failed;			/* out of memory, or nested too deep */
	int depth;			/* open objects and arrays */
	char closer[JSON_DEPTH_MAX];	/* '}' or ']' of each open level */
	bool used[JSON_DEPTH_MAX + 1];	/* a member was written at the level */
	int digits;			/* json_num(): %.<digits>g (default 15) */
};

/* An empty document. */
void json_init(struct json *j);
/* json_init() and an open top-level object: the usual start. */
void json_object(struct json *j);
/* Open an object ('{') or an array ('[') as member @key. */
void json_open(struct json *j, const char *key, char bracket);
/* Close the innermost open object or array. */
void json_close(struct json *j);

/* A string; @val NULL writes null. */
void json_str(struct json *j, const char *key, const char *val);
/* The first @n bytes of @val as a string. */
void json_strn(struct json *j, const char *key, const char *val, size_t n);
/* A string made with printf(@fmt, ...). */
void json_strf(struct json *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void json_int(struct json *j, const char *key, long long val);
void json_uint(struct json *j, const char *key, unsigned long long val);
/* %.<digits>g; not finite: null. */
void json_num(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* @json: an already encoded value. */
void json_raw(struct json *j, const char *key, const char *json);
/* [@vals[0], ...] as strings. */
void json_str_array(struct json *j, const char *key, const char *const *vals,
		    int n);

/*
 * Close what is still open; the text, valid until json_free(), or NULL if
 * the document could not be written whole (out of memory, too deep).
 */
const char *json_end(struct json *j);
void json_free(struct json *j);

#endif /* FAULTLINE_JSON_H */
