/*
 * sock.h - what the daemon's inputs, outputs and listeners and complyctl's
 * API client share about sockets: unix addresses and writes that finish.
 */
#ifndef COMPLYD_SOCK_H
#define COMPLYD_SOCK_H

#include <stddef.h>
#include <sys/un.h>

/* Fills *sun for path; -1 if the path does not fit (the caller says so). */
int sock_unix_addr(struct sockaddr_un *sun, const char *path);
/* Writes all of n bytes (sock: without SIGPIPE when the peer left); 0 or -1. */
int sock_write_all(int fd, int sock, const char *p, size_t n);

#endif
