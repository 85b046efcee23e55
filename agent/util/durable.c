/*
 * durable.c
 *		Replacing a small state file durably (durable.h): the load's state
 *		(snapshot_state.c) and the confirmed position (position.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"

/* fsync the directory holding path, so a rename in it is durable. */
static bool
durable_fsync_dir(const char *path)
{
	char	   *dir = strdup(path);
	char	   *slash;
	int			fd;
	bool		ok;

	if (dir == NULL)
	{
		errno = ENOMEM;
		return false;
	}
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	fd = open(slash == NULL ? "." : (dir[0] ? dir : "/"), O_RDONLY);
	free(dir);
	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

static bool
durable_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t) w;
	}
	return true;
}

bool
durable_replace(const char *path, const char *text)
{
	size_t		n = strlen(path) + 8;
	char	   *tmp = malloc(n);
	int			fd;
	int			saved;

	if (tmp == NULL)
	{
		errno = ENOMEM;
		return false;
	}
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		goto fail;
	if (!durable_write_all(fd, text, strlen(text)) || fsync(fd) != 0)
	{
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0 || !durable_fsync_dir(path))
		goto fail;
	free(tmp);
	return true;

fail:
	saved = errno;
	unlink(tmp);
	free(tmp);
	errno = saved;
	return false;
}
