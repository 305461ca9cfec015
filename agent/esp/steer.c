/*
 * Policy routing for the selectors a route cannot express: a
 * route takes every protocol to a network, so a crypto map line such as
 * `permit udp host A eq 1701 host B`, or any transport-mode pair (between
 * the two gateways, whose own IKE and ESP must not enter the tunnel), gets
 * a rule instead: "to B/32, protocol UDP, source port 1701: table
 * ESP_DP_TABLE", whose only route is the TUN device. The agent's own
 * sockets carry ESP_DP_FWMARK and a rule before ours sends marked packets
 * to the main table. Plain rtnetlink (RFC 3549), one request at a time,
 * each acknowledged.
 */
#include "esp/dp_int.h"
#include "core/log.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <unistd.h>

#define NL_BUF 512

struct nl_req {
	struct nlmsghdr *h;
	uint8_t          buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void *
nl_begin(struct nl_req *r, uint16_t type, uint16_t flags, size_t body)
{
	memset(r->buf, 0, sizeof(r->buf));
	r->h = (struct nlmsghdr *)r->buf;
	r->h->nlmsg_type = type;
	r->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h->nlmsg_len = NLMSG_LENGTH(body);
	return NLMSG_DATA(r->h);
}

static void
nl_attr(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h->nlmsg_len = NLMSG_ALIGN(r->h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void
nl_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	nl_attr(r, type, &v, sizeof(v));
}

/* Sends the request and reads its acknowledgement: 0, or -1 with errno. */
static int
nl_talk(struct esp_dp *dp, struct nl_req *r)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	uint8_t ack[NL_BUF];
	ssize_t n;

	if (sendto(dp->nl_fd, r->buf, r->h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) == -1)
		return -1;
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)ack;

		if ((n = recv(dp->nl_fd, ack, sizeof(ack), 0)) == -1)
			return -1;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				errno = -e->error;
				return e->error == 0 ? 0 : -1;
			}
		}
	}
}

/* A rule at prio to our table (or, with mark, the marked packets' rule to
 * the main table); del removes it. */
static int
rule(struct esp_dp *dp, const struct dp_route *rt, int mark, int del)
{
	struct nl_req r;
	struct fib_rule_hdr *f = nl_begin(&r, del ? RTM_DELRULE : RTM_NEWRULE,
					  del ? 0 : NLM_F_CREATE | NLM_F_EXCL, sizeof(*f));

	f->family = AF_INET;
	f->action = FR_ACT_TO_TBL;
	if (mark) {
		nl_u32(&r, FRA_PRIORITY, ESP_DP_RULE_PRIO - 1);
		nl_u32(&r, FRA_FWMARK, ESP_DP_FWMARK);
		nl_u32(&r, FRA_FWMASK, 0xffffffffu);
		nl_u32(&r, FRA_TABLE, RT_TABLE_MAIN);
		return nl_talk(dp, &r);
	}
	nl_u32(&r, FRA_PRIORITY, ESP_DP_RULE_PRIO);
	nl_u32(&r, FRA_TABLE, ESP_DP_TABLE);
	if (rt == NULL)		/* any of ours: the flush at start */
		return nl_talk(dp, &r);
	f->dst_len = (uint8_t)__builtin_popcount(rt->net.mask_be);
	if (f->dst_len > 0)
		nl_attr(&r, FRA_DST, &rt->net.addr_be, 4);
	if (rt->proto != 0)
		nl_attr(&r, FRA_IP_PROTO, &rt->proto, 1);
	if (rt->sport != 0)
		nl_attr(&r, FRA_SPORT_RANGE, &(struct fib_rule_port_range){ rt->sport, rt->sport },
			sizeof(struct fib_rule_port_range));
	if (rt->dport != 0)
		nl_attr(&r, FRA_DPORT_RANGE, &(struct fib_rule_port_range){ rt->dport, rt->dport },
			sizeof(struct fib_rule_port_range));
	return nl_talk(dp, &r);
}

int
dp_steer_rule(struct esp_dp *dp, const struct dp_route *rt, int add)
{
	if (dp->nl_fd == -1) {
		errno = ENOTSUP;
		return -1;
	}
	if (rule(dp, rt, 0, !add) == -1 && errno != (add ? EEXIST : ENOENT))
		return -1;
	return 0;
}

int
dp_steer_open(struct esp_dp *dp)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct nl_req r;
	struct rtmsg *m;
	unsigned ifindex = if_nametoindex(dp->tun_name);
	int n = 0;

	if (ifindex == 0 ||
	    (dp->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) == -1 ||
	    bind(dp->nl_fd, (struct sockaddr *)&me, sizeof(me)) == -1)
		return -1;
	/* an earlier run's rules (a crash leaves them): ours to table 4500 */
	while (rule(dp, NULL, 0, 1) == 0 && n++ < 65536)
		;
	while (rule(dp, NULL, 1, 1) == 0)
		;
	m = nl_begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*m));
	m->rtm_family = AF_INET;
	m->rtm_table = RT_TABLE_UNSPEC;
	m->rtm_protocol = RTPROT_STATIC;
	m->rtm_scope = RT_SCOPE_LINK;
	m->rtm_type = RTN_UNICAST;
	nl_u32(&r, RTA_TABLE, ESP_DP_TABLE);
	nl_u32(&r, RTA_OIF, ifindex);
	if (nl_talk(dp, &r) == -1 || rule(dp, NULL, 1, 0) == -1)
		return -1;
	return 0;
}

void
dp_steer_close(struct esp_dp *dp)
{
	if (dp->nl_fd == -1)
		return;
	rule(dp, NULL, 1, 1);	/* the routes go with the device */
	close(dp->nl_fd);
	dp->nl_fd = -1;
}
