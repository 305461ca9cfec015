/*
 * XAUTH password hashes (agent/core/passwd.c): the right password
 * verifies and a wrong one does not, fresh salts, hashes made elsewhere
 * (Python's hashlib.scrypt, the passlib string form) verify, and every
 * malformed or out-of-bounds stored string is -1 without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/passwd.h"

/* hashlib.scrypt(b"alice-pass", salt=bytes(range(16)), n=2**ln, r, p, dklen=32) */
#define SALT0 "AAECAwQFBgcICQoLDA0ODw"
static const char *const known[] = {
	"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA",
	"$scrypt$ln=14,r=8,p=1$" SALT0 "$glaTk/Q/evyWlVpByYL83V8NpIfEDGkbWF1B/ZL+63k",
	"$scrypt$ln=11,r=1,p=2$" SALT0 "$DGDO9o79QurfDa/H+1H+DJFK4UR7LbOUBU6nDUp7bAo",
};
#define HASH10 "QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA"

static void
test_hash_then_verify(void **state)
{
	char a[CFG_PWHASH_MAX], b[CFG_PWHASH_MAX], longest[CFG_PASSWORD_MAX + 1];

	assert_int_equal(passwd_hash("correct horse", a), 0);
	assert_int_equal(strncmp(a, "$scrypt$ln=14,r=8,p=1$", 22), 0);
	assert_int_equal(strlen(a), 22 + 22 + 1 + 43);
	assert_int_equal(passwd_stored_check(a), 0);
	assert_int_equal(passwd_verify("correct horse", a), 1);
	assert_int_equal(passwd_verify("correct horsE", a), 0);
	assert_int_equal(passwd_verify("correct horse ", a), 0);
	assert_int_equal(passwd_verify("", a), 0);
	/* a new salt each time: the same password, another string */
	assert_int_equal(passwd_hash("correct horse", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, b, 22), 0);
	assert_int_equal(passwd_verify("correct horse", b), 1);
	/* the longest password the API takes, and one character that is not ASCII */
	memset(longest, 'p', CFG_PASSWORD_MAX);
	longest[CFG_PASSWORD_MAX] = '\0';
	assert_int_equal(passwd_hash(longest, a), 0);
	assert_int_equal(passwd_verify(longest, a), 1);
	longest[CFG_PASSWORD_MAX - 1] = '\0';
	assert_int_equal(passwd_verify(longest, a), 0);
	assert_int_equal(passwd_hash("p\xc3\xa4ss", a), 0);
	assert_int_equal(passwd_verify("p\xc3\xa4ss", a), 1);
	assert_int_equal(passwd_verify("pass", a), 0);
}

/* Strings made by another scrypt: the parameters come from the string. */
static void
test_known_hashes(void **state)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (passwd_verify("alice-pass", known[i]) != 1)
			fail_msg("%s does not verify alice-pass", known[i]);
		assert_int_equal(passwd_verify("alice-pasS", known[i]), 0);
		assert_int_equal(passwd_verify("alice-pass\n", known[i]), 0);
		assert_int_equal(passwd_stored_check(known[i]), 0);
	}
}

static void
test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"$scrypt$",
		"alice-pass",
		"$2b$12$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$scrypt$ln=14,r=8,p=1$" SALT0,
		"$scrypt$ln=14,r=8,p=1$" SALT0 "$",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$" HASH10 "$",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$" HASH10 "\n",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$" HASH10 " ",
		" $scrypt$ln=10,r=8,p=1$" SALT0 "$" HASH10,
		"$SCRYPT$ln=10,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=9,r=8,p=1$" SALT0 "$" HASH10,		/* below the bounds */
		"$scrypt$ln=17,r=8,p=1$" SALT0 "$" HASH10,		/* above them */
		"$scrypt$ln=10,r=0,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=9,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=8,p=0$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=8,p=3$" SALT0 "$" HASH10,
		"$scrypt$ln=010,r=8,p=1$" SALT0 "$" HASH10,	/* one spelling per number */
		"$scrypt$ln=+10,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=-10,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=1000000000000000000014,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$r=8,ln=10,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=8$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=8,p=1,x=1$" SALT0 "$" HASH10,
		"$scrypt$ln=10;r=8;p=1$" SALT0 "$" HASH10,
		"$scrypt$N=1024,r=8,p=1$" SALT0 "$" HASH10,
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0OD$" HASH10,	/* 21 characters */
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODwA$" HASH10,	/* 23 */
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$" HASH10,	/* padding */
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODx$" HASH10,	/* bits left over */
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0OD-$" HASH10,	/* URL alphabet */
		"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0O w$" HASH10,
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bA",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAAA",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAB",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9+o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bA=",
		"$scrypt$ln=10,r=8,p=1$" SALT0 "$QmWI9_o0UFWa+B7ddcICILieN2s7MCfg3m8oee51bAA",
		"$scrypt$ln=10,r=8,p=1$" SALT0 HASH10,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (passwd_verify("alice-pass", bad[i]) != -1)
			fail_msg("case %zu taken: \"%s\"", i, bad[i]);
		if (passwd_stored_check(bad[i]) != -1)
			fail_msg("case %zu well-formed: \"%s\"", i, bad[i]);
	}
}

/* Informational: the cost of one verify with the default parameters (the
 * IKE engine pays it on its loop per XAUTH attempt). */
static void
test_verify_cost(void **state)
{
	char h[CFG_PWHASH_MAX];
	struct timespec a, b;
	int n = 5;

	assert_int_equal(passwd_hash("timing", h), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		assert_int_equal(passwd_verify("timing", h), 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("passwd_verify (ln=%d,r=%d,p=%d): %.1f ms each\n", PASSWD_LN, PASSWD_R,
		      PASSWD_P, ((double)(b.tv_sec - a.tv_sec) * 1e3 +
				 (double)(b.tv_nsec - a.tv_nsec) / 1e6) / n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_then_verify),
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_verify_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
