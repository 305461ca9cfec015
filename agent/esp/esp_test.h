/*
 * Test-only hooks of the ESP core, for the unit tests, the fuzzer and the
 * benchmark; the agent calls only set_seq, behind its explicit test setting
 * --test-esp-seq-start. Kept out of esp.h so nothing else reaches them.
 */
#ifndef ESP_ESP_TEST_H
#define ESP_ESP_TEST_H

#include <stdint.h>

#include "esp/esp.h"

/* set_iv: the next CBC packet uses this IV instead of the generator
 * (known-answer tests). set_seq: the next outbound sequence number (wrap
 * tests; 2^32 and above are refused). raw: esp_output encrypts inner as
 * the whole plaintext, its own padding, pad length and next header
 * included (len a multiple of the cipher's alignment), to craft authentic
 * packets with bad trailers. reset_replay: an empty window. */
void esp_sa_test_set_iv(struct esp_sa *sa, const uint8_t iv[16]);
void esp_sa_test_set_seq(struct esp_sa *sa, uint64_t next);
void esp_sa_test_raw(struct esp_sa *sa, int on);
void esp_sa_test_reset_replay(struct esp_sa *sa);

#endif
