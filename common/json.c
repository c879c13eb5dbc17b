/*
 * common/json.c - pretty-printed JSON documents (see common/json.h).
 */
#include "common/json.h"

#include <errno.h>
#include <stdlib.h>

int json_pretty(json_t *o, struct strbuf *out)
{
	char *s;

	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	strbuf_addstr(out, s);
	strbuf_addch(out, '\n');
	free(s);
	return 0;
}
