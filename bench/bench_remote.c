/*
 * Remote-access client connections: a headend and a client engine
 * in one process (tests/lib/ike_sim.c's fake wire and clock), each
 * iteration a whole connection from nothing: Main Mode (group 14), XAUTH
 * when asked, Mode Config (the client pulls, or the headend pushes), Quick
 * Mode for the client's address, then both sides cleared. The client's side
 * of the transaction exchange is tests/lib/ike_sim_client.c. Printed beside
 * what the connection cannot do without, measured in the same run: both
 * sides' Diffie-Hellman (keygen + derive), and with XAUTH one password
 * check (scrypt, core/passwd.c) as well.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/passwd.h"
#include "ike_sim_client.h"

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One connection of client 0, from Main Mode to its pair on the headend. */
static void
connect_once(const struct ra_opts *o)
{
	struct ike *he = peers[RA_HEADEND].ike;
	int installed = peers[RA_HEADEND].installed;
	uint32_t lease;

	ike_clear(he, 0, now_ms);
	ike_clear(peers[0].ike, 0, now_ms);
	run_until(now_ms + 1);
	ra_start(RA_HEADEND);			/* nothing held from the last connection */
	ra_client(0, 0, o->xauth, 0);		/* no selector: no Quick Mode of its own */
	if (ike_mm_initiate(peers[0].ike, &peers[0].ike->tunnels[0], now_ms) == -1)
		abort();
	run_until(now_ms + 1);
	if (o->xauth) {
		ra_xauth(0, "alice", "wonderland", NULL);
		if (ra_xauth_status(0) != 1)
			abort();
	}
	if (o->push) {
		static struct ra_msg m;

		ra_open(0, &m);
		lease = ra_address(&m);
		ra_answer(0, &m, IKE_CFG_ACK, NULL, 0, NULL);
	} else {
		lease = ra_pull(0, 0);
	}
	ra_client_qm(0, lease);
	if (lease == 0 || peers[RA_HEADEND].installed != installed + 1) {
		fprintf(stderr, "bench_remote: the connection did not complete (lease %08x, "
			"%d installed)\n", ntohl(lease), peers[RA_HEADEND].installed - installed);
		exit(1);
	}
}

static double
connections(const struct ra_opts *o, double seconds)
{
	double t0;
	uint64_t n = 0;

	ra_setup(o, 0);
	ra_client(0, 0, o->xauth, 0);		/* connects when the bench says */
	run_until(now_ms + 100);
	t0 = cpu_s();
	while (cpu_s() - t0 < seconds) {
		connect_once(o);
		n++;
	}
	t0 = cpu_s() - t0;
	ra_teardown(NULL);
	return (double)n / t0;
}

/* Both sides' keygen + derive, group 14 (peer value checked). */
static double
kx_per_s(double seconds)
{
	uint8_t pa[IKE_DH_MAX], pb[IKE_DH_MAX], s[IKE_DH_MAX];
	size_t len = ike_dh_pub_len(14), sl;
	double t0 = cpu_s();
	uint64_t n = 0;

	while (cpu_s() - t0 < seconds) {
		struct ike_dh *a = ike_dh_new(14), *b = ike_dh_new(14);

		ike_dh_public(a, pa, len);
		ike_dh_public(b, pb, len);
		if (ike_dh_derive(a, pb, len, s, &sl) == -1 || ike_dh_derive(b, pa, len, s, &sl) == -1)
			exit(1);
		ike_dh_free(a);
		ike_dh_free(b);
		n++;
	}
	return (double)n / (cpu_s() - t0);
}

static double
checks_per_s(double seconds)
{
	char stored[CFG_PWHASH_MAX];
	double t0;
	uint64_t n = 0;

	if (passwd_hash("wonderland", stored) == -1)
		exit(1);
	t0 = cpu_s();
	while (cpu_s() - t0 < seconds) {
		if (passwd_verify("wonderland", stored) != 1)
			exit(1);
		n++;
	}
	return (double)n / (cpu_s() - t0);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char    *name;
		struct ra_opts o;
	} modes[] = {
		{ "pull", { .first = "10.9.0.1", .last = "10.9.0.254" } },
		{ "push", { .push = 1, .first = "10.9.0.1", .last = "10.9.0.254" } },
		{ "pull + XAUTH", { .xauth = 1, .first = "10.9.0.1", .last = "10.9.0.254",
				    .xauth_rate = 1000000 } },
	};
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	double kx = kx_per_s(secs), pw = checks_per_s(secs);

	log_init("bench", LOG_LEVEL__COUNT);
	printf("%-14s %14s %16s %8s\n", "mode", "connections/s", "bound/s", "ratio");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		double c = connections(&modes[i].o, secs);
		/* what each connection must pay: both DH, and a password check */
		double bound = modes[i].o.xauth ? 1.0 / (1.0 / kx + 1.0 / pw) : kx;

		printf("%-14s %14.0f %16.0f %7.0f%%\n", modes[i].name, c, bound, 100.0 * c / bound);
	}
	printf("(headend and client on one core; MM group 14 + Mode Config + QM, AES-128/SHA-256;\n"
	       " bound: both sides' DH keygen + derive, %.0f/s, and with XAUTH one scrypt check\n"
	       " (ln=14, r=8, p=1), %.0f/s)\n", kx, pw);
	return 0;
}
