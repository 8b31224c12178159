#include <ballonet/error.h>

static const char *const messages[] = {
	[BN_OK] = "Success",
	[BN_EPERM] = "Operation not permitted",
	[BN_ENOENT] = "No such file or directory",
	[BN_EINVAL] = "Invalid argument",
	[BN_ENOMEM] = "Cannot allocate memory",
	[BN_EBUSY] = "Device busy",
	[BN_EIO] = "Input/output error",
	[BN_ERANGE] = "Result too large",
	[BN_ENODEV] = "Operation not supported by device",
	[BN_ETIMEDOUT] = "Operation timed out",
};

const char *
bn_strerror(int error)
{
	if (error < 0 || error >= (int)(sizeof(messages) / sizeof(messages[0])))
		return "Unknown error";
	return messages[error];
}
