/*
 * obs_listen.c
 *		--http-listen: "[ADDR:]PORT" parsed and bound (obs.h,
 *		obs_listen.h).
 *
 * The socket is made here rather than by libmicrohttpd so that a port in
 * use or an address the machine does not have is a startup error in the
 * kernel's own words, before the agent connects to anything (exit 1).
 */
#include "obs_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "127.0.0.1:9187" or "[::1]:9187" from the address itself. */
static void
obs_listen_text(struct obs_listen_addr *a)
{
	char		host[INET6_ADDRSTRLEN];
	const struct sockaddr *sa = (const struct sockaddr *) &a->addr;

	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(a->text, sizeof(a->text), "[%s]:%u", host, ntohs(in6->sin6_port));
	}
	else
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(a->text, sizeof(a->text), "%s:%u", host, ntohs(in->sin_port));
	}
}

/* A decimal port, 0..65535, the whole of s. */
static bool
obs_listen_port(const char *s, char *port, size_t len)
{
	char	   *end;
	long		v;

	if (*s < '0' || *s > '9' || strlen(s) >= len)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		return false;
	snprintf(port, len, "%ld", v);
	return true;
}

bool
obs_listen_parse(const char *v, struct obs_listen_addr *out, char *msg,
				 size_t msglen)
{
	char		host[256];
	char		port[8];
	const char *colon = strrchr(v, ':');
	struct addrinfo hints;
	struct addrinfo *res = NULL;

	memset(out, 0, sizeof(*out));
	if (colon == NULL)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (v[0] == '[')
	{
		/* [IPv6]:PORT */
		const char *close = strchr(v, ']');

		if (close == NULL || close + 1 != colon || close - v - 1 >= (long) sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int) (close - v - 1), v + 1);
	}
	else
	{
		if (colon == v || memchr(v, ':', (size_t) (colon - v)) != NULL ||
			colon - v >= (long) sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int) (colon - v), v);
	}
	if (!obs_listen_port(colon ? colon + 1 : v, port, sizeof(port)))
		goto bad;

	/*
	 * Numeric addresses only (and localhost): a listener binds to an
	 * interface's address, and parsing the setting must not wait for DNS.
	 */
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
	{
		snprintf(msg, msglen, "\"%s\": \"%s\" is not a numeric IPv4 or IPv6 address (or localhost)",
				 v, host);
		if (res != NULL)
			freeaddrinfo(res);
		return false;
	}
	memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	obs_listen_text(out);
	return true;

bad:
	snprintf(msg, msglen, "\"%s\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)", v);
	return false;
}

int
obs_listen_bind(struct obs_listen_addr *addr, char *err, size_t errlen)
{
	const struct sockaddr *sa = (const struct sockaddr *) &addr->addr;
	int			fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int			on = 1;

	if (fd < 0)
	{
		snprintf(err, errlen, "http_listen: could not create a socket for %s: %s",
				 addr->text, strerror(errno));
		return -1;
	}
	/* a restarted agent must not wait for its old connections' TIME_WAIT */
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, sa, addr->len) != 0 || listen(fd, 64) != 0)
	{
		snprintf(err, errlen, "http_listen: could not listen on %s: %s",
				 addr->text, strerror(errno));
		close(fd);
		return -1;
	}
	addr->len = sizeof(addr->addr);
	if (getsockname(fd, (struct sockaddr *) &addr->addr, &addr->len) == 0)
		obs_listen_text(addr);
	return fd;
}
