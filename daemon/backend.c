/*
 * ballonetd: what the backends share (see backend.h).
 */
#include "backend.h"

const char *
bk_status_name(int status)
{
	switch (status) {
	case BK_OK:		return "ok";
	case BK_EGONE:		return "gone";
	case BK_ENOBALLOON:	return "no balloon";
	case BK_ERANGE:		return "out of range";
	case BK_EFAIL:		return "backend failure";
	case BK_ENOTSUP:	return "not supported";
	default:		return "unknown status";
	}
}
