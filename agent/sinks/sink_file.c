/*
 * sink_file.c
 *		The file sink: every event appended to a file as one JSON line (in
 *		the configured envelope), durable before it counts as confirmed.
 *		For debugging, auditing and replaying a stream (docs/agent-config.md,
 *		"File").
 *
 * Lines are collected in memory and written, then fdatasync'd, when the
 * loop services the sink (once per turn, after it read what the slot had):
 * consecutive transactions share one write and one sync, and only after
 * the sync are their events confirmed, as pg_recvlogical reports as
 * flushed only what it fsync'd.  The in-flight window bounds what is held.
 *
 * After a crash the file may end in lines that were written but never
 * confirmed (the slot sends those events again: at-least-once, like every
 * sink) and, when the crash interrupted a write, in a partial line: open()
 * cuts that off, since its event is unconfirmed and comes again.  A failed
 * fsync is fatal (the kernel may have dropped the data it could not
 * write, so retrying could confirm a hole; PostgreSQL panics for the same
 * reason); a full disk is retried like a lost connection.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, pread, fdatasync */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_table.h"
#include "envelope.h"
#include "log.h"
#include "sink.h"

/* Its settings block; names are the setting keys. */
struct sink_file_settings
{
	char	   *file_path;		/* NULL = the sink is not enabled */
};

#define F(field) offsetof(struct sink_file_settings, field)

static const struct config_option sink_file_options[] = {
	{"file-path", 0, CONFIG_STRING, F(file_path), NULL, 0, 0, NULL, NULL,
		"FILE", "append every event to FILE as a JSON line, synced to disk before it counts as confirmed; unset = no file",
	CONFIG_NULLABLE, "File", NULL, NULL},
};

static const struct config_section sink_file_config = {
	"file", CONFIG_ROWS(sink_file_options), sizeof(struct sink_file_settings),
	NULL
};

struct sink_file
{
	struct sink base;
	const char *path;			/* borrowed from the settings */
	int			fd;				/* -1 while closed */
	char	   *buf;			/* lines not yet written */
	size_t		len;
	size_t		cap;
};

/* Read into the file backwards for its last '\n': the end of its last line. */
static bool
sink_file_last_newline(int fd, off_t size, off_t *end, char *err,
					   size_t errlen)
{
	char		chunk[4096];
	off_t		pos = size;

	while (pos > 0)
	{
		size_t		n = pos < (off_t) sizeof(chunk) ? (size_t) pos : sizeof(chunk);
		ssize_t		r = pread(fd, chunk, n, pos - (off_t) n);

		if (r != (ssize_t) n)
		{
			snprintf(err, errlen, "file sink: could not read its end: %s",
					 r < 0 ? strerror(errno) : "short read");
			return false;
		}
		for (size_t i = n; i > 0; i--)
			if (chunk[i - 1] == '\n')
			{
				*end = pos - (off_t) n + (off_t) i;
				return true;
			}
		pos -= (off_t) n;
	}
	*end = 0;
	return true;
}

/*
 * A partial last line is what a crash in the middle of a write leaves:
 * its event was never confirmed, so it comes again; cut it off rather
 * than leave a line no reader can parse.
 */
static enum sink_status
sink_file_repair(struct sink_file *fs, char *err, size_t errlen)
{
	struct stat sb;
	off_t		end;
	char		last;

	if (fstat(fs->fd, &sb) != 0)
	{
		snprintf(err, errlen, "file sink: could not stat \"%s\": %s", fs->path,
				 strerror(errno));
		return SINK_FATAL;
	}
	if (sb.st_size == 0)
		return SINK_OK;
	if (pread(fs->fd, &last, 1, sb.st_size - 1) != 1)
	{
		snprintf(err, errlen, "file sink: could not read \"%s\": %s", fs->path,
				 strerror(errno));
		return SINK_FATAL;
	}
	if (last == '\n')
		return SINK_OK;
	if (!sink_file_last_newline(fs->fd, sb.st_size, &end, err, errlen))
		return SINK_FATAL;
	if (ftruncate(fs->fd, end) != 0 || fdatasync(fs->fd) != 0)
	{
		snprintf(err, errlen, "file sink: could not cut the partial last line of \"%s\": %s",
				 fs->path, strerror(errno));
		return SINK_FATAL;
	}
	log_warning("file sink: \"%s\" ended in a partial line (a write cut short by a crash): removed its %lld bytes; its event is written again",
				fs->path, (long long) (sb.st_size - end));
	return SINK_OK;
}

/* Sync the directory, so that a file created here survives a crash. */
static enum sink_status
sink_file_sync_dir(struct sink_file *fs, char *err, size_t errlen)
{
	char	   *dir = strdup(fs->path);
	char	   *slash;
	int			fd;
	bool		ok;

	if (dir == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_CLOEXEC);
	ok = fd >= 0 && fsync(fd) == 0;
	if (!ok)
		snprintf(err, errlen, "file sink: could not sync directory \"%s\": %s",
				 dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return ok ? SINK_OK : SINK_FATAL;
}

static void
sink_file_shut(struct sink_file *fs)
{
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	fs->len = 0;
}

static enum sink_status
sink_file_open(struct sink *s, char *err, size_t errlen)
{
	struct sink_file *fs = (struct sink_file *) s;
	enum sink_status st;

	/* Numbering restarts with every open, as for a broker connection. */
	s->st.published = s->st.confirmed = 0;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	fs->len = 0;

	/*
	 * Owner-only, as pg_recvlogical creates its file: rows are data.  Read
	 * access only to check how the file ends (sink_file_repair).
	 */
	fs->fd = open(fs->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fs->fd < 0)
	{
		snprintf(err, errlen, "file sink: could not open \"%s\": %s", fs->path,
				 strerror(errno));
		return SINK_FATAL;
	}
	if ((st = sink_file_repair(fs, err, errlen)) != SINK_OK ||
		(st = sink_file_sync_dir(fs, err, errlen)) != SINK_OK)
	{
		sink_file_shut(fs);
		return st;
	}
	log_info("file sink: appending to \"%s\"", fs->path);
	return SINK_OK;
}

static enum sink_status
sink_file_publish(struct sink *s, const struct event *ev, char *err,
				  size_t errlen)
{
	struct sink_file *fs = (struct sink_file *) s;
	size_t		len;
	char	   *body = envelope_render(s->cfg->envelope, ev, &len, err, errlen);

	if (body == NULL)
		return sink_refuse(s, ev->lsn);
	if (fs->len + len + 1 > fs->cap)
	{
		size_t		cap = fs->cap ? fs->cap : 65536;
		char	   *p;

		while (cap < fs->len + len + 1)
			cap *= 2;
		if ((p = realloc(fs->buf, cap)) == NULL)
		{
			free(body);
			snprintf(err, errlen, "out of memory");
			return SINK_FATAL;
		}
		fs->buf = p;
		fs->cap = cap;
	}
	memcpy(fs->buf + fs->len, body, len);
	fs->buf[fs->len + len] = '\n';
	fs->len += len + 1;
	free(body);
	sink_count_published(s, 1, len + 1);
	return SINK_OK;
}

/*
 * Nothing is written at a commit: service() writes and syncs what the
 * loop's turn collected, so that consecutive transactions share a sync.
 */
static enum sink_status
sink_file_end_txn(struct sink *s, char *err, size_t errlen)
{
	(void) s;
	(void) err;
	(void) errlen;
	return SINK_OK;
}

/* Write what is held, sync it, and only then confirm it. */
static enum sink_status
sink_file_service(struct sink *s, char *err, size_t errlen)
{
	struct sink_file *fs = (struct sink_file *) s;
	size_t		done = 0;

	if (fs->len == 0)
		return SINK_OK;
	while (done < fs->len)
	{
		ssize_t		n = write(fs->fd, fs->buf + done, fs->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			int			e = errno;

			snprintf(err, errlen, "file sink: could not write to \"%s\": %s",
					 fs->path, strerror(e));
			/* Space may come back; the partial line is cut at the reopen. */
			return e == ENOSPC || e == EDQUOT ? SINK_RETRY : SINK_FATAL;
		}
		done += (size_t) n;
	}
	if (fdatasync(fs->fd) != 0)
	{
		snprintf(err, errlen, "file sink: could not sync \"%s\" to disk: %s",
				 fs->path, strerror(errno));
		return SINK_FATAL;
	}
	fs->len = 0;
	s->st.confirmed = s->st.published;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	return SINK_OK;
}

static int
sink_file_pollfd(struct sink *s, short *events)
{
	(void) s;
	*events = 0;
	return -1;
}

/* What was not synced is dropped: the slot sends it again. */
static void
sink_file_close(struct sink *s)
{
	sink_file_shut((struct sink_file *) s);
}

static void
sink_file_destroy(struct sink *s)
{
	struct sink_file *fs = (struct sink_file *) s;

	sink_file_shut(fs);
	free(fs->buf);
	free(fs);
}

static const struct sink_ops sink_file_ops = {
	.open = sink_file_open,
	.publish = sink_file_publish,
	.end_txn = sink_file_end_txn,
	.service = sink_file_service,
	.pollfd = sink_file_pollfd,
	.close = sink_file_close,
	.destroy = sink_file_destroy,
};

static const struct sink_file_settings *
sink_file_settings(const struct agent_config *cfg)
{
	return config_block(cfg, &sink_file_config);
}

static struct sink *
sink_file_new(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct sink_file *fs = calloc(1, sizeof(*fs));

	if (fs == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fs->base.ops = &sink_file_ops;
	fs->base.cfg = cfg;
	fs->path = sink_file_settings(cfg)->file_path;
	fs->fd = -1;
	return &fs->base;
}

static bool
sink_file_configured(const struct agent_config *cfg)
{
	const struct sink_file_settings *set = sink_file_settings(cfg);

	return set->file_path != NULL && set->file_path[0] != '\0';
}

/* The file sink: --file-path enables it. */
const struct sink_kind sink_file_kind = {
	.name = "file",
	.config = &sink_file_config,
	.configured = sink_file_configured,
	.create = sink_file_new,
};
