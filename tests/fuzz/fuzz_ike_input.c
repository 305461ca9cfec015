/*
 * libFuzzer over the whole inbound IKE path: ike_input() of an engine that
 * already has an established ISAKMP SA with a peer (built once, in-process,
 * by a real handshake), fed arbitrary datagrams as new exchanges and as
 * messages carrying that SA's cookies, so header, chain, payload parsing,
 * decryption and every exchange handler are reached.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ike/ike_int.h"
#include "ike_pair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_pair_wire w;
static int64_t now = 1000;

static void
setup(void)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf maps[2];

	log_init("fuzz", LOG_LEVEL__COUNT);	/* silent */
	w.addr[0] = htonl(0xc0000201);
	w.addr[1] = htonl(0xc0000202);
	for (int i = 0; i < 2; i++) {
		struct ike_transport tr = { &w, ike_pair_send };
		struct ike_conf c;

		w.eng[i] = ike_new(&tr, NULL);
		ike_pair_conf(i, w.addr, 19, IKE_HASH_SHA1, &c, &maps[i], &psk[i]);
		ike_configure(w.eng[i], &c, now);
	}
	for (int round = 0; round < 8; round++) {
		ike_timer(w.eng[0], now);
		ike_pair_pump(&w, now);
	}
	/* The deep paths need this: a fuzzer that never reaches them is
	 * useless, so refuse to run. */
	if (w.eng[1]->sas == NULL || w.eng[1]->sas->state != SA_ESTABLISHED ||
	    w.eng[1]->tunnels[0].nchildren != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t msg[IKE_MSG_MAX];
	struct ike_sa *sa;

	if (w.eng[0] == NULL)
		setup();
	if (size == 0 || size > sizeof(msg))
		return 0;
	memcpy(msg, data, size);
	/* As is, on both ports, from the known peer and a stranger. */
	ike_input(w.eng[1], IKE_PORT, w.addr[0], IKE_PORT, msg, size, now);
	ike_input(w.eng[1], IKE_NATT_PORT, htonl(0xc6336401), IKE_NATT_PORT, msg, size, now);
	/* With the established SA's cookies, so it reaches decryption and the
	 * Quick Mode / Informational handlers. */
	sa = w.eng[1]->sas;
	if (sa != NULL && size >= IKE_HDR_LEN) {
		memcpy(msg, sa->icookie, IKE_COOKIE_LEN);
		memcpy(msg + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN);
		ike_input(w.eng[1], sa->local_port, w.addr[0], sa->peer_port, msg, size, now);
	}
	w.n = 0;
	ike_timer(w.eng[1], now);
	w.n = 0;
	return 0;
}
