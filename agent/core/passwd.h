/*
 * XAUTH user passwords, stored only as a salted scrypt hash in
 * the PHC string form passlib also writes:
 *   $scrypt$ln=14,r=8,p=1$<salt: 16 bytes>$<hash: 32 bytes>
 * (standard base64 without padding). The parameters are read from the
 * string, so stronger ones can come later; only ln 10..20, r 1..16 and
 * p 1..4 are taken.
 */
#ifndef CORE_PASSWD_H
#define CORE_PASSWD_H

#include "core/config.h"

#ifdef FUZZING
#define PASSWD_LN       10	/* fuzzers hash thousands of bodies: 1 MiB, 16x cheaper */
#else
#define PASSWD_LN       14	/* N = 2^14: 16 MiB with r = 8 */
#endif
#define PASSWD_R        8
#define PASSWD_P        1
#define PASSWD_LN_MIN   10
#define PASSWD_LN_MAX   16	/* the bounds keep one check under 64 MiB and ~0.3 s:
				 * the IKE engine runs it on its loop */
#define PASSWD_R_MAX    8
#define PASSWD_P_MAX    2
#define PASSWD_SALT_LEN 16
#define PASSWD_HASH_LEN 32

/*
 * One passwd_verify with the default parameters took 37-43 ms of one
 * core and 16 MiB on the build machine (Intel Xeon, 2 vCPUs, OpenSSL
 * 3.0.19; 47 ms in the ASan build; test_passwd prints it). The IKE
 * engine runs it on its event loop for each XAUTH attempt, so it must
 * pace attempts. A stored string with larger parameters costs more:
 * ln 20, r 16, p 4 would be 2 GiB and, scaled, some 19 s.
 */

/* A new random salt and the hash of password into out. 0, or -1 when the
 * random generator or scrypt failed (out is then ""). */
int passwd_hash(const char *password, char out[CFG_PWHASH_MAX]);
/* 1 when password matches stored, 0 when not, -1 when stored is not a
 * hash of ours (or scrypt failed). The hashes compare in constant time. */
int passwd_verify(const char *password, const char *stored);
/* 0 when stored is a well-formed hash string (the format above, its
 * parameters in range, base64 canonical), else -1. */
int passwd_stored_check(const char *stored);

#endif
