/*
 * fs/dirbuf.c - directory listings as opendir builds them, and pool-path
 * joining (see fs/dirbuf.h).
 */
#include "fs/dirbuf.h"

#include <stdlib.h>

#include "common/alloc.h"

void fs_path_join(struct strbuf *out, const char *dir, const char *name)
{
	strbuf_addstr(out, dir);
	if (out->len == 0 || out->buf[out->len - 1] != '/')
		strbuf_addch(out, '/');
	strbuf_addstr(out, name);
}

int fs_dir_add(struct fs_dir *d, const char *name, uint64_t ino, uint32_t type)
{
	ALLOC_GROW(d->ents, d->n + 1, d->alloc);
	d->ents[d->n].name = xstrdup(name);
	d->ents[d->n].ino = ino;
	d->ents[d->n].type = type;
	d->ents[d->n].hidden = false;
	d->n++;
	return 0;
}

void fs_dir_free(struct fs_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	strbuf_release(&d->path);
	free(d);
}
