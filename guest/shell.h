/*
 * The command shell on COM1, polled from the main loop.
 */
#ifndef GUEST_SHELL_H
#define GUEST_SHELL_H

#include <stdint.h>

void	shell_start(void);	/* prints the first prompt */
void	shell_poll(void);	/* consumes whatever was typed */

/* Commands in their own files; argv[0] is the command name. */
int	cmd_sysctl(int argc, char **argv);
int	cmd_mem(int argc, char **argv);
int	cmd_info(int argc, char **argv);
int	cmd_bench(int argc, char **argv);
int	cmd_wave(int argc, char **argv);

/* "600M", "4096", "1GiB": bytes in *bytes; 0, or -1 when malformed. */
int	parse_size(const char *s, uint64_t *bytes);

#endif /* GUEST_SHELL_H */
