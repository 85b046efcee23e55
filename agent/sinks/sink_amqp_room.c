/*
 * sink_amqp_room.c
 *		Never blocking on the RabbitMQ socket: a message goes to rabbitmq-c
 *		only when the kernel can take all of it at once.
 *
 * rabbitmq-c 0.11 writes a publish with no deadline: when the socket's
 * send buffer is full it waits in poll(fd, POLLOUT, -1).  On a link that
 * drops packets silently (a partition, no FIN or RST) the buffer never
 * drains, so the agent would freeze there: no status update reaches
 * PostgreSQL, the walsender ends the session for replication timeout, and
 * the heartbeat that should notice the dead link is never serviced
 * (issue 15).  So the sink measures the room first:
 *
 *  - after every publish and every service(), st.full says whether the
 *    kernel reports the socket writable (POLLOUT: free space at least half
 *    of what is queued).  While it is not, the loop takes no more events,
 *    keeps sending status updates, and services the sink at least once a
 *    second, where rabbitmq-c's heartbeat check notices a dead broker
 *    within twice the heartbeat;
 *  - a message is handed over only when it fits in the free space the
 *    kernel reports (SO_MEMINFO: the send buffer's size minus what is
 *    queued, both in the kernel's own accounting).  Only a message larger
 *    than that free space waits here, and only while the queue keeps
 *    draining: no progress for the stall limit (the heartbeat, at most the
 *    status interval) ends the session as a dead link.
 *
 * The unsent bytes are thus bounded by the kernel's send buffer, and no
 * write waits on a silent network longer than that limit.
 *
 * The free space only grows between our own writes (the broker's acks
 * free it), so what was measured minus what was written since is a lower
 * bound (as->room): most messages need no system call at all.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/sock_diag.h>

#include "clock.h"
#include "sink_amqp.h"

/* Frames, headers and TLS records around a body of len bytes. */
#define SINK_AMQP_FRAMING(len) ((len) / 16 + 2048)

/* Without heartbeats, a write that makes no progress this long is dead. */
#define SINK_AMQP_DEFAULT_STALL_S 30

static int
sink_amqp_fd(struct sink_amqp *as)
{
	return as->conn ? amqp_get_sockfd(as->conn) : -1;
}

/* Whether the kernel reports the socket writable right now. */
static bool
sink_amqp_writable(int fd)
{
	struct pollfd p = {.fd = fd,.events = POLLOUT};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

/*
 * The send buffer's free bytes and how much is queued in it, as the
 * kernel counts them; false if it cannot say (then the caller relies on
 * POLLOUT alone).
 */
static bool
sink_amqp_send_space(int fd, size_t *free_bytes, size_t *queued)
{
	uint32_t	mem[SK_MEMINFO_VARS];
	socklen_t	len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
		len < sizeof(uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1))
		return false;
	*queued = mem[SK_MEMINFO_WMEM_QUEUED];
	*free_bytes = mem[SK_MEMINFO_SNDBUF] > mem[SK_MEMINFO_WMEM_QUEUED] ?
		mem[SK_MEMINFO_SNDBUF] - mem[SK_MEMINFO_WMEM_QUEUED] : 0;
	return true;
}

/* Below this much known room, ask the kernel whether we are full. */
#define SINK_AMQP_ROOM_SURE (256 * 1024)

void
sink_amqp_update_full(struct sink_amqp *as)
{
	int			fd = sink_amqp_fd(as);

	as->base.st.full = fd >= 0 && as->room < SINK_AMQP_ROOM_SURE &&
		!sink_amqp_writable(fd);
}

enum sink_status
sink_amqp_make_room(struct sink_amqp *as, size_t len, char *err,
					size_t errlen)
{
	int			fd = sink_amqp_fd(as);
	size_t		need = len + SINK_AMQP_FRAMING(len);
	size_t		free_bytes;
	size_t		queued;
	size_t		last_queued = SIZE_MAX;
	int			stall_s = as->set->amqp_heartbeat > 0 ?
		as->set->amqp_heartbeat : SINK_AMQP_DEFAULT_STALL_S;
	int64_t		deadline = 0;

	if (stall_s > as->base.cfg->status_interval)
		stall_s = as->base.cfg->status_interval;
	if (fd < 0)
	{
		snprintf(err, errlen, "not connected to RabbitMQ");
		return SINK_RETRY;
	}
	if (need <= as->room)
	{
		as->room -= need;
		return SINK_OK;
	}
	for (;;)
	{
		struct pollfd p = {.fd = fd,.events = 0};
		int64_t		now;

		if (!sink_amqp_send_space(fd, &free_bytes, &queued))
			return SINK_OK;		/* no SO_MEMINFO: POLLOUT alone guards */
		as->room = free_bytes > need ? free_bytes - need : 0;

		/*
		 * An empty queue takes any message: the kernel then accepts what
		 * its buffer holds and rabbitmq-c writes the rest as it drains,
		 * which is the one write that may wait (a message larger than the
		 * whole buffer, on a link that dies during it).
		 */
		if (need <= free_bytes || queued == 0)
			return SINK_OK;

		now = clock_now_ms();
		if (queued < last_queued)
		{
			/* progress: the broker is taking what we sent */
			last_queued = queued;
			deadline = now + (int64_t) stall_s * 1000;
		}
		else if (now >= deadline)
		{
			snprintf(err, errlen,
					 "the RabbitMQ connection to %s:%d took nothing for %d s (%zu bytes queued, a %zu-byte message waiting): the link is dead",
					 as->host ? as->host : "?", as->port, stall_s, queued, len);
			as->healthy = false;
			return SINK_RETRY;
		}
		/*
		 * Wait for the queue to shrink.  POLLOUT may well be set already
		 * (it only means half the buffer is free), so sleep on errors
		 * alone.
		 */
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
		{
			snprintf(err, errlen, "poll on the RabbitMQ socket failed: %s",
					 strerror(errno));
			as->healthy = false;
			return SINK_RETRY;
		}
		if (p.revents & (POLLERR | POLLHUP))
		{
			snprintf(err, errlen, "lost the RabbitMQ connection to %s:%d while publishing",
					 as->host ? as->host : "?", as->port);
			as->healthy = false;
			return SINK_RETRY;
		}
	}
}
