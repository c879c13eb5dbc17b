/*
 * common/banned.h - string functions that overflow or are not reentrant.
 *
 * Forced into every translation unit by the Makefile (-include), so a use
 * is a compile error. Use snprintf, strbuf or memcpy with a length instead.
 */
#ifndef POOL_BANNED_H
#define POOL_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_poolfs

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
