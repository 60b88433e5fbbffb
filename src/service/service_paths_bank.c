/* SPDX-License-Identifier: MIT */
/*
 * A bank member's own paths (docs/bank.md): its limits under /Bank/, which
 * the bank service combines, and /Bank/Member. They exist only on a member,
 * whose /Info/ limits are invalid (service_paths.c get_limit()).
 */
#include <string.h>

#include "service_paths_groups.h"

bool service_path_member_only(const struct path_def *def)
{
	return strncmp(def->path, "/Bank/", 6) == 0;
}

enum path_result service_get_bank_limit(const struct service_view *v, unsigned arg, struct path_value *o)
{
	const struct policy_output *p = v->pol;

	if (arg == 9) {
		o->i = 1;
		return PATH_SET;
	}
	if (!p)
		return PATH_KEEP;
	if (arg == 8) {
		if (!p->params.cells || !p->params.v_flt_mv)
			return PATH_KEEP;
		o->d = (double)p->params.v_flt_mv * p->params.cells / 1000.0;
		return PATH_SET;
	}
	return service_path_limit(p, arg, o);
}
