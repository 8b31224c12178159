/*
 * ballonet: error codes shared by the engine, the front-ends and the ports.
 *
 * Every fallible function returns one of these: BN_OK (zero) on success,
 * a positive code otherwise.  They mirror errno names so that a port can map
 * them one to one (the reference guest prints them with bn_strerror()).
 */
#ifndef BALLONET_ERROR_H
#define BALLONET_ERROR_H

#define BN_OK		0
#define BN_EPERM	1	/* value beyond limits, or node is read-only */
#define BN_ENOENT	2	/* no such node or device */
#define BN_EINVAL	3	/* malformed argument */
#define BN_ENOMEM	4	/* the OS has no page to give */
#define BN_EBUSY	5	/* no free request slot or descriptor */
#define BN_EIO		6	/* the device or hypervisor refused or misbehaved */
#define BN_ERANGE	7	/* number does not fit */
#define BN_ENODEV	8	/* device absent, or lacks a required feature */
#define BN_ETIMEDOUT	9	/* the host did not answer in time */

#if defined(__GNUC__)
#define BN_MUST_CHECK	__attribute__((warn_unused_result))
#else
#define BN_MUST_CHECK
#endif

/* Short English text for an error code, never NULL. */
const char *bn_strerror(int error);

#endif /* BALLONET_ERROR_H */
