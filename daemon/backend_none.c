/*
 * ballonetd: built without the libvirt backend (daemon/backend_libvirt.c
 * absent, or not enabled): --connect says so and the daemon stops.
 */
#include <stdio.h>

#include "backend.h"

struct backend *
backend_libvirt_open(const char *uri, int timeout_ms, char *err, size_t errlen)
{
	(void)timeout_ms;
	snprintf(err, errlen, "--connect %s: this ballonetd was built without "
	    "the libvirt backend", uri != NULL ? uri : "(default)");
	return NULL;
}
