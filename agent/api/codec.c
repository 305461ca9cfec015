/*
 * The generic JSON codec: walks an object type's field table to decode a
 * request (or config.json) into a cfg_* struct, to encode one back, and to
 * free what it allocated. Nothing here knows a particular object type.
 * The allocator that wipes, errors and text rendering are json.c's.
 */
#include "api/api_int.h"
#include "core/log.h"
#include "core/passwd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* ---- field storage ------------------------------------------------------ */

static char **
field_ptr(const struct api_field *f, void *obj)
{
	return (char **)(void *)((char *)obj + f->offset);
}

static char *const *
field_cptr(const struct api_field *f, const void *obj)
{
	return (char *const *)(const void *)((const char *)obj + f->offset);
}

static void
uint_store(const struct api_field *f, void *obj, unsigned long long v)
{
	char *p = (char *)obj + f->offset;

	if (f->size == sizeof(uint16_t)) {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, sizeof(x));
	} else {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, sizeof(x));
	}
}

static unsigned long long
uint_load(const struct api_field *f, const void *obj)
{
	const char *p = (const char *)obj + f->offset;

	if (f->size == sizeof(uint16_t)) {
		uint16_t x;
		memcpy(&x, p, sizeof(x));
		return x;
	}
	uint32_t x;
	memcpy(&x, p, sizeof(x));
	return x;
}

static void
enum_store(const struct api_field *f, void *obj, int v)
{
	memcpy((char *)obj + f->offset, &v, sizeof(v));
}

static int
enum_load(const struct api_field *f, const void *obj)
{
	int v;

	memcpy(&v, (const char *)obj + f->offset, sizeof(v));
	return v;
}

static void
bool_store(const struct api_field *f, void *obj, bool v)
{
	memcpy((char *)obj + f->offset, &v, sizeof(v));
}

static bool
bool_load(const struct api_field *f, const void *obj)
{
	bool v;

	memcpy(&v, (const char *)obj + f->offset, sizeof(v));
	return v;
}

static void
u32_store(const struct api_field *f, void *obj, uint32_t v)
{
	memcpy((char *)obj + f->offset, &v, sizeof(v));
}

static uint32_t
u32_load(const struct api_field *f, const void *obj)
{
	uint32_t v;

	memcpy(&v, (const char *)obj + f->offset, sizeof(v));
	return v;
}

static void
u8_store(const struct api_field *f, void *obj, uint8_t v)
{
	memcpy((char *)obj + f->offset, &v, sizeof(v));
}

static uint8_t
u8_load(const struct api_field *f, const void *obj)
{
	uint8_t v;

	memcpy(&v, (const char *)obj + f->offset, sizeof(v));
	return v;
}

/* API_F_IFADDR: the prefix length beside the address. */
static void
len_store(const struct api_field *f, void *obj, unsigned len)
{
	memcpy((char *)obj + f->count_off, &len, sizeof(len));
}

static unsigned
len_load(const struct api_field *f, const void *obj)
{
	unsigned len;

	memcpy(&len, (const char *)obj + f->count_off, sizeof(len));
	return len;
}

static void
count_store(const struct api_field *f, void *obj, size_t n)
{
	memcpy((char *)obj + f->count_off, &n, sizeof(n));
}

/* Never more than the list holds, whatever the memory says. */
static size_t
count_load(const struct api_field *f, const void *obj)
{
	size_t n;

	memcpy(&n, (const char *)obj + f->count_off, sizeof(n));
	return n > (size_t)f->max ? (size_t)f->max : n;
}

static void
heap_set(const struct api_field *f, void *obj, char *s)
{
	char **p = field_ptr(f, obj);

	if (f->kind == API_F_SECRET)
		free_secret(*p);
	else
		free(*p);
	*p = s;
}

void
api_obj_clear(const struct api_type *t, void *obj)
{
	for (size_t i = 0; i < t->n_fields; i++) {
		const struct api_field *f = &t->fields[i];

		if (f->kind == API_F_TEXT || f->kind == API_F_PEM || f->kind == API_F_SECRET ||
		    f->kind == API_F_PEMS)
			heap_set(f, obj, NULL);
		else if (f->kind == API_F_PWHASH)
			OPENSSL_cleanse((char *)obj + f->offset, f->size);
	}
}

void
api_husk_free(const struct api_type *t, void *obj)
{
	if (obj != NULL)
		OPENSSL_cleanse(obj, t->size);
	free(obj);
}

/* ---- decoding ----------------------------------------------------------- */

static void
path_join(char *out, size_t size, const char *prefix, const char *name)
{
	snprintf(out, size, "%s%s%s", prefix, *prefix ? "." : "", name);
}

/* A JSON string as a C string: no NUL inside, length within [min, max],
 * no control characters except the ones multi-line text needs. */
static int
dec_string(json_t *v, const char *path, long long min, long long max, int multiline,
	   const char **out, struct api_err *err)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return api_errf(err, 400, path, "%s must be a string", path);
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len)
		return api_errf(err, 400, path, "%s must not contain NUL characters", path);
	if ((long long)len < min)
		return api_errf(err, 400, path, min == 1 ? "%s must not be empty" :
				"%s is too short", path);
	if ((long long)len > max)
		return api_errf(err, 400, path, "%s is longer than %lld characters", path, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && !(multiline && (c == '\n' || c == '\r' || c == '\t')))
			return api_errf(err, 400, path, "%s contains a control character", path);
	}
	*out = s;
	return 0;
}

/* Old, weak settings get their own message naming the field. */
static int
dec_legacy(const struct api_field *f, json_t *v, const char *path, struct api_err *err)
{
	char num[32];
	const char *s = NULL;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v) && snprintf(num, sizeof(num), "%lld",
					       (long long)json_integer_value(v)) > 0)
		s = num;
	for (size_t i = 0; s != NULL && i < f->n_legacy; i++)
		if (strcasecmp(s, f->legacy[i].value) == 0)
			return api_errf(err, 400, path, "%s: %s", path, f->legacy[i].why);
	return 0;
}

static int
dec_uint(const struct api_field *f, json_t *v, const char *path, unsigned long long *out,
	 struct api_err *err)
{
	char list[128] = "";
	long long x;

	if (json_is_integer(v)) {
		x = json_integer_value(v);
	} else if (json_is_string(v) && (f->flags & API_NUMSTR)) {
		const char *s = json_string_value(v);
		char *end;

		if (*s < '0' || *s > '9' || json_string_length(v) > 18)
			return api_errf(err, 400, path, "%s must be an integer", path);
		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno || *end != '\0')
			return api_errf(err, 400, path, "%s must be an integer", path);
	} else {
		return api_errf(err, 400, path, "%s must be an integer", path);
	}
	if (x < f->min || x > f->max)
		return api_errf(err, 400, path, "%s must be between %lld and %lld", path, f->min,
				f->max);
	for (size_t i = 0; i < f->n_choices; i++) {
		size_t n = strlen(list);

		if (x == f->choices[i]) {
			*out = (unsigned long long)x;
			return 0;
		}
		snprintf(list + n, sizeof(list) - n, "%s%lld", i ? ", " : "", f->choices[i]);
	}
	if (f->n_choices > 0)
		return api_errf(err, 400, path, "%s must be one of %s", path, list);
	*out = (unsigned long long)x;
	return 0;
}

/* A NULL name stands for JSON null, which the caller has taken as absent. */
static int
dec_enum(const struct api_field *f, json_t *v, const char *path, int *out, struct api_err *err)
{
	char list[192] = "";
	const char *s;

	if (json_is_string(v)) {
		s = json_string_value(v);
		for (size_t i = 0; i < f->n_names; i++) {
			if (f->names[i] != NULL && strcmp(s, f->names[i]) == 0) {
				*out = (int)i;
				return 0;
			}
		}
	}
	for (size_t i = 0; i < f->n_names; i++) {
		size_t n = strlen(list);

		snprintf(list + n, sizeof(list) - n, "%s%s%s%s", i ? ", " : "",
			 f->names[i] ? "\"" : "", f->names[i] ? f->names[i] : "null",
			 f->names[i] ? "\"" : "");
	}
	return api_errf(err, 400, path, "%s must be one of %s", path, list);
}

/* {id, name?, type?, version?}: resolved by id when d->cfg is given. */
static int
dec_ref(const struct api_field *f, json_t *v, const char *path, const struct api_dec *d,
	struct cfg_ref *out, struct api_err *err)
{
	const struct api_type *target = &api_types[f->ref];
	char sub[API_FIELD_MAX];
	const char *key, *id = NULL, *name = NULL, *s;
	const void *obj;
	json_t *x;

	if (!json_is_object(v))
		return api_errf(err, 400, path, "%s must be a reference {\"id\", \"name\", "
				"\"type\"} to a %s", path, target->type);
	json_object_foreach(v, key, x) {
		path_join(sub, sizeof(sub), path, key);
		if (strcmp(key, "id") == 0) {
			if (dec_string(x, sub, 1, UUID_STR_LEN - 1, 0, &id, err) == -1)
				return -1;
		} else if (strcmp(key, "name") == 0) {
			if (dec_string(x, sub, 0, CFG_NAME_MAX - 1, 0, &name, err) == -1)
				return -1;
		} else if (strcmp(key, "type") == 0) {
			if (dec_string(x, sub, 0, 64, 0, &s, err) == -1)
				return -1;
			if (strcmp(s, target->type) != 0)
				return api_errf(err, 400, sub, "%s must be \"%s\"", sub,
						target->type);
		} else if (strcmp(key, "version") == 0) {
			if (!json_is_string(x) && !json_is_null(x))
				return api_errf(err, 400, sub, "%s must be a string", sub);
		} else {
			return api_errf(err, 400, sub, "unknown field %s", sub);
		}
	}
	path_join(sub, sizeof(sub), path, "id");
	if (id == NULL)
		return api_errf(err, 400, sub, "%s is required", sub);
	if (d->cfg != NULL) {
		if ((obj = api_coll_find(target, d->cfg, id, NULL)) == NULL)
			return api_errf(err, 400, sub, "%s: no %s with id %s", sub, target->type,
					id);
		if (name != NULL && strcmp(name, api_cmeta(obj)->name) != 0) {
			path_join(sub, sizeof(sub), path, "name");
			return api_errf(err, 400, sub, "%s \"%s\" does not match the name \"%s\" "
					"of %s %s", sub, name, api_cmeta(obj)->name,
					target->type, id);
		}
	}
	str_copy(out->id, sizeof(out->id), id);
	return 0;
}

static int
dec_ipv4(json_t *v, const char *path, uint32_t *out, struct api_err *err)
{
	const char *s;

	if (dec_string(v, path, 1, 15, 0, &s, err) == -1)
		return -1;
	if (ipv4_parse(s, out) == -1)
		return api_errf(err, 400, path, "%s \"%s\" is not a dotted IPv4 address", path, s);
	return 0;
}

/* "10.1.0.0/16", or an address alone for a /32; host bits must be clear. */
static int
dec_prefix(json_t *v, const char *path, struct cfg_prefix *out, struct api_err *err)
{
	char addr[16], canon[16];
	const char *s, *slash, *len;
	unsigned n = 32;
	size_t alen, llen;
	uint32_t a, mask;

	if (dec_string(v, path, 1, 18, 0, &s, err) == -1)
		return -1;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		return api_errf(err, 400, path, "%s \"%s\" is not an IPv4 prefix (A.B.C.D/N)",
				path, s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (slash != NULL) {
		/* 0..32: one or two digits, no sign, no leading zero */
		len = slash + 1;
		llen = strlen(len);
		if (llen >= 1 && llen <= 2 && strspn(len, "0123456789") == llen &&
		    !(llen == 2 && len[0] == '0'))
			n = (unsigned)strtoul(len, NULL, 10);
		else
			n = 99;
		if (n > 32)
			return api_errf(err, 400, path, "%s \"%s\": the prefix length must be "
					"0 to 32", path, s);
	}
	if (ipv4_parse(addr, &a) == -1)
		return api_errf(err, 400, path, "%s \"%s\" is not an IPv4 prefix (A.B.C.D/N)",
				path, s);
	mask = n == 0 ? 0 : UINT32_MAX << (32 - n);
	if ((a & ~mask) != 0) {
		ipv4_text(a & mask, canon);
		return api_errf(err, 400, path, "%s \"%s\" has host bits set (did you mean "
				"%s/%u?)", path, s, canon, n);
	}
	out->addr = a;
	out->len = n;
	return 0;
}

/* "gre" or 47: a protocol name (cfg_proto_name) or a number 0..255. */
static int
dec_proto(json_t *v, const char *path, uint8_t *out, struct api_err *err)
{
	int p = -1;

	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		p = cfg_proto_parse(json_string_value(v));
	else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255)
		p = (int)json_integer_value(v);
	if (p == -1)
		return api_errf(err, 400, path, "%s must be \"ip\" (every protocol), \"icmp\", "
				"\"tcp\", \"udp\", \"gre\" or a protocol number 0 to 255 (89 "
				"for OSPF)", path);
	*out = (uint8_t)p;
	return 0;
}

/* "10.10.10.2/30": an interface's address and prefix, host bits kept. */
static int
dec_ifaddr(json_t *v, const char *path, uint32_t *addr, unsigned *len, struct api_err *err)
{
	char a[16];
	const char *s, *slash;
	size_t alen, llen;

	if (dec_string(v, path, 1, 18, 0, &s, err) == -1)
		return -1;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : 0;
	if (slash == NULL || alen >= sizeof(a))
		return api_errf(err, 400, path, "%s \"%s\" is not an address with its prefix "
				"length (A.B.C.D/N, as 10.10.10.2/30)", path, s);
	memcpy(a, s, alen);
	a[alen] = '\0';
	llen = strlen(slash + 1);
	if (llen < 1 || llen > 2 || strspn(slash + 1, "0123456789") != llen ||
	    slash[1] == '0' || (*len = (unsigned)strtoul(slash + 1, NULL, 10)) > 32)
		return api_errf(err, 400, path, "%s \"%s\": the prefix length must be 1 to 32",
				path, s);
	if (ipv4_parse(a, addr) == -1)
		return api_errf(err, 400, path, "%s \"%s\" is not an address with its prefix "
				"length (A.B.C.D/N, as 10.10.10.2/30)", path, s);
	return 0;
}

/* A password is hashed as it arrives: nothing keeps it. config.json and
 * the journal hold hashes only, so a password there is refused. */
static int
dec_password(const struct api_field *f, json_t *v, const char *path, const struct api_dec *d,
	     void *obj, struct api_err *err)
{
	const char *s;

	if (d->mode == API_DEC_STORE)
		return api_errf(err, 400, path, "%s: the stored configuration holds password "
				"hashes only (%s), never a password", path, f->either);
	if (dec_string(v, path, f->min, f->max, 0, &s, err) == -1)
		return -1;
	if (passwd_hash(s, (char *)obj + f->offset) == -1)
		return api_errf(err, 500, path, "%s: cannot hash the password (random "
				"generator or scrypt failed)", path);
	return 0;
}

/* The hash itself is never echoed, not even in a refusal. */
static int
dec_pwhash(const struct api_field *f, json_t *v, const char *path, void *obj,
	   struct api_err *err)
{
	const char *s;

	if (dec_string(v, path, 1, (long long)f->size - 1, 0, &s, err) == -1)
		return -1;
	if (passwd_stored_check(s) == -1)
		return api_errf(err, 400, path, "%s is not a password hash this agent takes: "
				"$scrypt$ln=%d..%d,r=1..%d,p=1..%d$ then a %d-byte salt and a "
				"%d-byte hash in base64 without padding", path, PASSWD_LN_MIN,
				PASSWD_LN_MAX, PASSWD_R_MAX, PASSWD_P_MAX, PASSWD_SALT_LEN,
				PASSWD_HASH_LEN);
	str_copy((char *)obj + f->offset, f->size, s);
	return 0;
}

#define PEM_BEGIN "-----BEGIN "

/* Each item one PEM block of the label names[0], kept one after another,
 * each ending in a newline (added when it has none), so that enc_pems
 * splits them again where each "-----BEGIN " starts. */
static int
dec_pems(const struct api_field *f, json_t *v, const char *path, void *obj,
	 struct api_err *err)
{
	char sub[API_FIELD_MAX], begin[64];
	const char *s;
	size_t n, i, len = 0;
	char *all;
	json_t *x;

	snprintf(begin, sizeof(begin), "%s%s-----", PEM_BEGIN, f->names[0]);
	if (!json_is_array(v))
		return api_errf(err, 400, path, "%s must be an array", path);
	n = json_array_size(v);
	if ((long long)n < f->min || (long long)n > f->max)
		return api_errf(err, 400, path, "%s must hold %lld to %lld items (it holds %zu)",
				path, f->min, f->max, n);
	json_array_foreach(v, i, x) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (dec_string(x, sub, 1, CFG_PEM_MAX, 1, &s, err) == -1)
			return -1;
		if (strncmp(s, begin, strlen(begin)) != 0)
			return api_errf(err, 400, sub, "%s must be one PEM block that starts with "
					"%s", sub, begin);
		if (strstr(s + 1, PEM_BEGIN) != NULL)
			return api_errf(err, 400, sub, "%s holds more than one PEM block (give "
					"each its own item)", sub);
		len += strlen(s) + 1;
	}
	if (n == 0) {
		heap_set(f, obj, NULL);
		return 0;
	}
	all = xmalloc(len + 1);
	len = 0;
	json_array_foreach(v, i, x) {
		s = json_string_value(x);
		memcpy(all + len, s, strlen(s));
		len += strlen(s);
		if (all[len - 1] != '\n')
			all[len++] = '\n';
	}
	all[len] = '\0';
	heap_set(f, obj, all);
	return 0;
}

static int dec_field(const struct api_field *f, json_t *v, const char *path,
		     const struct api_dec *d, void *obj, struct api_err *err);
static int dec_unknown(const struct api_field *fields, size_t n, json_t *in, const char *prefix,
		       struct api_err *err);
static int dec_fields(const struct api_field *fields, size_t n, json_t *in, const char *prefix,
		      const struct api_dec *d, const void *old, void *obj, struct api_err *err);

static int
dec_list(const struct api_field *f, json_t *v, const char *path, const struct api_dec *d,
	 void *obj, struct api_err *err)
{
	char *base = (char *)obj + f->offset, sub[API_FIELD_MAX];
	size_t n, i;
	json_t *x;

	if (!json_is_array(v))
		return api_errf(err, 400, path, "%s must be an array", path);
	n = json_array_size(v);
	if ((long long)n < f->min || (long long)n > f->max)
		return api_errf(err, 400, path, "%s must hold %lld to %lld items (it holds %zu)",
				path, f->min, f->max, n);
	json_array_foreach(v, i, x) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (json_is_null(x))
			return api_errf(err, 400, sub, "%s must not be null", sub);
		if (dec_field(f->sub, x, sub, d, base + i * f->size, err) == -1)
			return -1;
	}
	count_store(f, obj, n);
	return 0;
}

static int
dec_field(const struct api_field *f, json_t *v, const char *path, const struct api_dec *d,
	  void *obj, struct api_err *err)
{
	const char *s;
	unsigned long long u = 0;
	uint32_t a;
	int e = 0;

	if (dec_legacy(f, v, path, err) == -1)
		return -1;
	switch (f->kind) {
	case API_F_STR:
		if (dec_string(v, path, f->min, f->max, 0, &s, err) == -1)
			return -1;
		str_copy((char *)obj + f->offset, f->size, s);
		return 0;
	case API_F_TEXT:
	case API_F_PEM:
	case API_F_SECRET:
		if (dec_string(v, path, f->min, f->max, !(f->flags & API_ONELINE), &s, err) == -1)
			return -1;
		heap_set(f, obj, xstrdup(s));
		return 0;
	case API_F_UINT:
		if (dec_uint(f, v, path, &u, err) == -1)
			return -1;
		uint_store(f, obj, u);
		return 0;
	case API_F_ENUM:
		if (dec_enum(f, v, path, &e, err) == -1)
			return -1;
		enum_store(f, obj, e);
		return 0;
	case API_F_CONST:
		return dec_enum(f, v, path, &e, err);
	case API_F_REF:
		return dec_ref(f, v, path, d, (struct cfg_ref *)(void *)((char *)obj + f->offset),
			       err);
	case API_F_BOOL:
		if (!json_is_boolean(v))
			return api_errf(err, 400, path, "%s must be true or false", path);
		bool_store(f, obj, json_is_true(v));
		return 0;
	case API_F_IPV4:
		if (dec_ipv4(v, path, &a, err) == -1)
			return -1;
		u32_store(f, obj, a);
		return 0;
	case API_F_PREFIX:
		return dec_prefix(v, path, (struct cfg_prefix *)(void *)((char *)obj + f->offset),
				  err);
	case API_F_LIST:
		return dec_list(f, v, path, d, obj, err);
	case API_F_OBJECT:
		if (!json_is_object(v))
			return api_errf(err, 400, path, "%s must be an object", path);
		if (dec_unknown(f->sub, f->n_sub, v, path, err) == -1)
			return -1;
		return dec_fields(f->sub, f->n_sub, v, path, d, NULL, (char *)obj + f->offset,
				  err);
	case API_F_PASSWORD:
		return dec_password(f, v, path, d, obj, err);
	case API_F_PWHASH:
		return dec_pwhash(f, v, path, obj, err);
	case API_F_PEMS:
		return dec_pems(f, v, path, obj, err);
	case API_F_PROTO: {
		uint8_t p = 0;

		if (dec_proto(v, path, &p, err) == -1)
			return -1;
		u8_store(f, obj, p);
		return 0;
	}
	case API_F_IFADDR: {
		unsigned len = 0;

		if (dec_ifaddr(v, path, &a, &len, err) == -1)
			return -1;
		u32_store(f, obj, a);
		len_store(f, obj, len);
		return 0;
	}
	}
	return api_errf(err, 500, path, "%s: unknown field kind", path);
}

/* An absent (or null) field: required, kept from the old object, or the
 * default. */
static int
dec_absent(const struct api_field *f, const char *path, const struct api_dec *d,
	   const void *old, void *obj, struct api_err *err)
{
	char sub[API_FIELD_MAX];

	if ((f->flags & API_KEEP) && d->mode == API_DEC_UPDATE && old != NULL) {
		if (f->kind == API_F_STR || f->kind == API_F_PASSWORD || f->kind == API_F_PWHASH) {
			str_copy((char *)obj + f->offset, f->size, (const char *)old + f->offset);
		} else {
			char *const *p = field_cptr(f, old);

			heap_set(f, obj, *p ? xstrdup(*p) : NULL);
		}
		return 0;
	}
	if ((f->flags & API_REQUIRED) && f->either != NULL)
		return api_errf(err, 400, path, "%s (or %s) is required", path, f->either);
	if (f->flags & API_REQUIRED)
		return api_errf(err, 400, path, "%s is required", path);
	if (f->kind == API_F_OBJECT) {
		for (size_t i = 0; i < f->n_sub; i++) {
			path_join(sub, sizeof(sub), path, f->sub[i].json);
			if (dec_absent(&f->sub[i], sub, d, NULL, (char *)obj + f->offset,
				       err) == -1)
				return -1;
		}
		return 0;
	}
	if (f->kind == API_F_REF)
		((struct cfg_ref *)(void *)((char *)obj + f->offset))->id[0] = '\0';
	else if (f->kind == API_F_UINT)
		uint_store(f, obj, (unsigned long long)f->def);
	else if (f->kind == API_F_ENUM)
		enum_store(f, obj, (int)f->def);
	else if (f->kind == API_F_BOOL)
		bool_store(f, obj, f->def != 0);
	else if (f->kind == API_F_IPV4)
		u32_store(f, obj, (uint32_t)f->def);
	else if (f->kind == API_F_LIST)
		count_store(f, obj, 0);
	else if (f->kind == API_F_PROTO)
		u8_store(f, obj, (uint8_t)f->def);
	else if (f->kind == API_F_IFADDR) {
		u32_store(f, obj, 0);
		len_store(f, obj, 0);
	}
	return 0;
}

static const struct api_field *
field_find(const struct api_field *fields, size_t n, const char *json)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].json, json) == 0)
			return &fields[i];
	return NULL;
}

/* Keys of a nested object that its table does not know. */
static int
dec_unknown(const struct api_field *fields, size_t n, json_t *in, const char *prefix,
	    struct api_err *err)
{
	char path[API_FIELD_MAX];
	const char *key;
	json_t *v;

	json_object_foreach(in, key, v) {
		if (field_find(fields, n, key) == NULL) {
			path_join(path, sizeof(path), prefix, key);
			return api_errf(err, 400, path, "unknown field %s", path);
		}
	}
	return 0;
}

static int
given(json_t *in, const char *key)
{
	json_t *v = key != NULL ? json_object_get(in, key) : NULL;

	return v != NULL && !json_is_null(v);
}

/* Each field of a table from in: present, or absent (null) and defaulted.
 * Of a pair that fills one storage (either), the one given decides. */
static int
dec_fields(const struct api_field *fields, size_t n, json_t *in, const char *prefix,
	   const struct api_dec *d, const void *old, void *obj, struct api_err *err)
{
	char path[API_FIELD_MAX];
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		const struct api_field *f = &fields[i];

		path_join(path, sizeof(path), prefix, f->json);
		if (given(in, f->either)) {
			if (given(in, f->json))
				return api_errf(err, 400, path, "give %s or %s, not both", path,
						f->either);
			continue;
		}
		v = json_object_get(in, f->json);
		if (v == NULL || json_is_null(v)) {
			if (dec_absent(f, path, d, old, obj, err) == -1)
				return -1;
		} else if (dec_field(f, v, path, d, obj, err) == -1) {
			return -1;
		}
	}
	return 0;
}

/* id, version, type and links: the server's fields. */
static int
dec_meta(const struct api_type *t, const char *key, json_t *v, const struct api_dec *d,
	 void *obj, struct api_err *err)
{
	struct cfg_meta *m = api_meta(obj);
	const char *s;

	if (strcmp(key, "type") == 0) {
		if (dec_string(v, key, 0, 64, 0, &s, err) == -1)
			return -1;
		if (strcmp(s, t->type) != 0)
			return api_errf(err, 400, key, "type must be \"%s\"", t->type);
		return 0;
	}
	if (d->mode == API_DEC_CREATE)
		return 0;	/* a copy of another object may be posted as is */
	if (strcmp(key, "id") == 0) {
		if (dec_string(v, key, 1, UUID_STR_LEN - 1, 0, &s, err) == -1)
			return -1;
		if (d->mode == API_DEC_STORE && !uuid_valid(s))
			return api_errf(err, 400, key, "id \"%s\" is not a UUID", s);
		str_copy(m->id, sizeof(m->id), s);
	} else if (strcmp(key, "version") == 0) {
		if (dec_string(v, key, 1, CFG_VERSION_LEN - 1, 0, &s, err) == -1)
			return -1;
		str_copy(m->version, sizeof(m->version), s);
	}
	return 0;	/* links: derived, ignored */
}

static int
is_meta_key(const char *key)
{
	return strcmp(key, "id") == 0 || strcmp(key, "version") == 0 ||
	    strcmp(key, "type") == 0 || strcmp(key, "links") == 0;
}

int
api_obj_decode(const struct api_type *t, json_t *in, const struct api_dec *d, void *obj,
	       struct api_err *err)
{
	const char *key;
	json_t *v;
	int rc = -1;

	if (!json_is_object(in)) {
		api_errf(err, 400, "", "the body must be a JSON object (%s)", t->type);
		goto done;
	}
	json_object_foreach(in, key, v) {
		if (is_meta_key(key)) {
			if (dec_meta(t, key, v, d, obj, err) == -1)
				goto done;
		} else if (field_find(t->fields, t->n_fields, key) == NULL) {
			api_errf(err, 400, key, "unknown field %s in a %s", key, t->type);
			goto done;
		}
	}
	if (dec_fields(t->fields, t->n_fields, in, "", d, d->old, obj, err) == -1)
		goto done;
	if (d->mode == API_DEC_STORE && (api_meta(obj)->id[0] == '\0' ||
					 api_meta(obj)->version[0] == '\0')) {
		api_errf(err, 400, api_meta(obj)->id[0] ? "version" : "id", "%s is required",
			 api_meta(obj)->id[0] ? "version" : "id");
		goto done;
	}
	rc = 0;
done:
	if (rc == -1)
		api_obj_clear(t, obj);
	return rc;
}

/* ---- encoding ----------------------------------------------------------- */

static json_t *
enc_ref(const struct api_field *f, const struct cfg_ref *r, const struct config *cfg, int api)
{
	const struct api_type *target = &api_types[f->ref];
	const void *obj = api_coll_find(target, cfg, r->id, NULL);
	json_t *j = json_object();

	if (api && obj != NULL)
		json_object_set_new(j, "version", json_string(api_cmeta(obj)->version));
	if (obj != NULL)
		json_object_set_new(j, "name", json_string(api_cmeta(obj)->name));
	json_object_set_new(j, "id", json_string(r->id));
	json_object_set_new(j, "type", json_string(target->type));
	return j;
}

static json_t *
enc_prefix(const struct cfg_prefix *p)
{
	char addr[16], text[24];

	ipv4_text(p->addr, addr);
	snprintf(text, sizeof(text), "%s/%u", addr, p->len);
	return json_string(text);
}

/* The blocks dec_pems kept, one string each. */
static json_t *
enc_pems(const char *s)
{
	json_t *list = json_array();
	const char *next;

	while (s != NULL && *s != '\0') {
		next = strstr(s + 1, PEM_BEGIN);
		json_array_append_new(list, json_stringn(s, next ? (size_t)(next - s) :
							 strlen(s)));
		s = next;
	}
	return list;
}

static void enc_fields(json_t *j, const struct api_field *fields, size_t n, const void *obj,
		       const struct config *cfg, int api);

static json_t *
enc_field(const struct api_field *f, const void *obj, const struct config *cfg, int api)
{
	const char *p = (const char *)obj + f->offset;
	char *const *s;
	char addr[16];
	json_t *list;
	size_t n;
	int e;

	switch (f->kind) {
	case API_F_STR:
	case API_F_PWHASH:
		return json_string(p);
	case API_F_TEXT:
	case API_F_PEM:
	case API_F_SECRET:
		s = field_cptr(f, obj);
		return *s ? json_string(*s) : json_null();
	case API_F_UINT:
		return json_integer((json_int_t)uint_load(f, obj));
	case API_F_ENUM:
		e = enum_load(f, obj);
		return e >= 0 && (size_t)e < f->n_names && f->names[e] != NULL ?
		    json_string(f->names[e]) : json_null();
	case API_F_CONST:
		return json_string(f->names[0]);
	case API_F_REF:
		if (((const struct cfg_ref *)(const void *)p)->id[0] == '\0')
			return json_null();	/* an optional reference left out */
		return enc_ref(f, (const struct cfg_ref *)(const void *)p, cfg, api);
	case API_F_BOOL:
		return json_boolean(bool_load(f, obj));
	case API_F_IPV4:
		ipv4_text(u32_load(f, obj), addr);
		return json_string(addr);
	case API_F_PREFIX:
		return enc_prefix((const struct cfg_prefix *)(const void *)p);
	case API_F_LIST:
		list = json_array();
		n = count_load(f, obj);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, enc_field(f->sub, p + i * f->size, cfg, api));
		return list;
	case API_F_OBJECT:
		list = json_object();
		enc_fields(list, f->sub, f->n_sub, p, cfg, api);
		return list;
	case API_F_PEMS:
		return enc_pems(*field_cptr(f, obj));
	case API_F_PROTO:
		e = u8_load(f, obj);
		return cfg_proto_name((unsigned)e) ? json_string(cfg_proto_name((unsigned)e)) :
		    json_integer(e);
	case API_F_IFADDR:
		return enc_prefix(&(struct cfg_prefix){ .addr = u32_load(f, obj),
							.len = len_load(f, obj) });
	case API_F_PASSWORD:
		break;	/* never kept: enc_fields leaves it out */
	}
	return json_null();
}

static void
enc_fields(json_t *j, const struct api_field *fields, size_t n, const void *obj,
	   const struct config *cfg, int api)
{
	for (size_t i = 0; i < n; i++) {
		if (fields[i].kind == API_F_PASSWORD ||
		    (api && api_field_secret(fields[i].kind)))
			continue;	/* never returned, not even masked */
		if ((fields[i].flags & API_SPARSE) && fields[i].kind == API_F_UINT &&
		    uint_load(&fields[i], obj) == (unsigned long long)fields[i].def)
			continue;	/* unset: left out */
		json_object_set_new(j, fields[i].json, enc_field(&fields[i], obj, cfg, api));
	}
}

json_t *
api_obj_encode(const struct api_type *t, const void *obj, const struct config *cfg,
	       const char *self_base)
{
	const struct cfg_meta *m = api_cmeta(obj);
	int api = self_base != NULL;
	json_t *j = json_object(), *links;
	char *self;
	size_t n;

	json_object_set_new(j, "version", json_string(m->version));
	enc_fields(j, t->fields, t->n_fields, obj, cfg, api);
	json_object_set_new(j, "id", json_string(m->id));
	json_object_set_new(j, "type", json_string(t->type));
	if (api) {
		/* A singleton lives at its path; a collection item below it. */
		n = strlen(self_base) + strlen(t->path) + strlen(m->id) + 2;
		self = xmalloc(n);
		if (t->count_off == API_FIXED)
			snprintf(self, n, "%s%s", self_base, t->path);
		else
			snprintf(self, n, "%s%s/%s", self_base, t->path, m->id);
		links = json_object();
		json_object_set_new(links, "self", json_string(self));
		json_object_set_new(j, "links", links);
		free(self);
	}
	return j;
}
