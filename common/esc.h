/*
 * common/esc.h - text that reaches a terminal or a line-based log as
 * written by someone else (a file name, a process name, a path given on
 * the command line) shown with its control characters as \xNN, so that
 * it can neither start a second, forged line nor move the cursor.
 */
#ifndef POOL_COMMON_ESC_H
#define POOL_COMMON_ESC_H

#include <stddef.h>

#include "common/strbuf.h"

/*
 * The bytes of the control character s starts with: 1 for C0 (below
 * 0x20) and DEL, 2 for a C1 control in UTF-8 (U+0080..U+009F, which
 * xterm and VTE obey: U+009B is CSI); 0 when s starts with none.
 */
size_t esc_control_len(const char *s);

/* Appends s with each byte of every control character as \xNN. */
void esc_add(struct strbuf *out, const char *s);

#endif
