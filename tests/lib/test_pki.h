/*
 * Test certificates made in-process: a self-signed P-256 certificate and
 * its key in PEM, for the API tests and the API fuzzer.
 */
#ifndef TESTS_TEST_PKI_H
#define TESTS_TEST_PKI_H

/* 0 with *cert and *key (free() them), or -1. */
int test_pki_pair(const char *cn, char **cert, char **key);

#endif
