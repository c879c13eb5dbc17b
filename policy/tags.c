/*
 * policy/tags.c - field tags and the masks they imply.
 *
 * Mask names themselves belong to the desensitization engine
 * (mask_spec_parse in policy/mask.c): the policy accepts exactly the
 * names the engine can apply, so a grant can never name a mask that
 * would fail only at read time.
 */
#include "policy/model.h"

#include <errno.h>
#include <string.h>

/*
 * Tags that name a kind of value but no mask: the value stays raw unless
 * the field or a grant names a mask. Tags that are mask names (id_card,
 * phone, name, bank_card, address, email) default to that mask.
 */
static const char *const plain_tags[] = {
	"region", "date", "gender", "org_code", "amount", "text",
};

static const char *const masking_tags[] = {
	"id_card", "phone", "name", "bank_card", "address", "email",
};

int pol_mask_parse(const char *text, struct mask_spec *out)
{
	return mask_spec_parse(text, out, NULL);
}

void pol_mask_format(const struct mask_spec *m, char *buf, size_t len)
{
	mask_spec_format(m, buf, len);
}

int pol_tag_default(const char *tag, struct mask_spec *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(masking_tags) / sizeof(masking_tags[0]); i++)
		if (strcmp(tag, masking_tags[i]) == 0)
			return pol_mask_parse(tag, out);
	for (size_t i = 0; i < sizeof(plain_tags) / sizeof(plain_tags[0]); i++)
		if (strcmp(tag, plain_tags[i]) == 0)
			return 0;
	return -EINVAL;
}

const char *pol_tag_list(void)
{
	return "id_card, phone, name, bank_card, address, email, region, date, "
	       "gender, org_code, amount, text";
}
