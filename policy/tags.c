/*
 * policy/tags.c - field tags and the masks they imply.
 *
 * Mask names themselves belong to the desensitization engine
 * (mask_spec_parse in policy/desens/mask.c): the policy accepts exactly the
 * names the engine can apply, so a grant can never name a mask that
 * would fail only at read time.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/*
 * Tags that are mask names default to that mask; the others name a kind
 * of value but no mask: the value stays raw unless the field or a grant
 * names a mask.
 */
static const struct {
	const char *name;
	bool masks;
} tags[] = {
	{ "id_card", true }, { "phone", true }, { "name", true },
	{ "bank_card", true }, { "address", true }, { "email", true },
	{ "region", false }, { "date", false }, { "gender", false },
	{ "org_code", false }, { "amount", false }, { "text", false },
};

int pol_tag_default(const char *tag, struct mask_spec *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcmp(tag, tags[i].name) == 0)
			return tags[i].masks ? mask_spec_parse(tag, out, NULL) : 0;
	return -EINVAL;
}

void pol_tag_list(struct strbuf *out)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", tags[i].name);
}
