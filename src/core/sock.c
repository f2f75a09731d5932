/*
 * sock.c - unix socket addresses and complete writes (see sock.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "complyd/sock.h"

int
sock_unix_addr(struct sockaddr_un *sun, const char *path)
{
	size_t	 len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, len + 1);
	return 0;
}

int
sock_write_all(int fd, int sock, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
