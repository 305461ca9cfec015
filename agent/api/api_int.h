/*
 * Private to agent/api/: the object-type and field-descriptor tables that
 * drive the generic JSON codec, the socket-free dispatch core the evhttp
 * callback wraps, persistence of config.json and the token file.
 * A new object type is one struct in core/config.h and one table here.
 */
#ifndef API_API_INT_H
#define API_API_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api.h"
#include "core/config.h"

#define API_OBJECTS_MANY    SIZE_MAX	/* max_items: api_objects_max, set at start */
#define API_HTTP_BODY_MAX   (4 * API_BODY_MAX)	/* libevent's own cap (HTML 413) */
#define API_HEADERS_MAX     (16 * 1024)
#define API_CONFIG_FILE_MAX (32 * 1024 * 1024)	/* config.json read cap */
#define API_JOURNAL_MAX     (128 * 1024 * 1024)	/* config.journal read cap */
#define API_JOURNAL_FOLD    1024		/* changes a journal may always hold */
#define API_TEXT_OUT_MAX    (64 * 1024 * 1024)	/* any rendered JSON text */
#define API_TEXT_MAX        1024		/* description */
#define API_HOST_MAX        256			/* Host header used in links.self */
#define API_MSG_MAX         320
#define API_FIELD_MAX       160			/* "targetHost.id", "networks[3].value" */
#define API_TOKEN_BYTES     32
#define API_TOKEN_HEX       (2 * API_TOKEN_BYTES)
#define API_TIMEOUT_S       30
#define API_VERSION_CHARS   13
#define API_CRLS_MAX        16			/* CRLs in the ike settings */

/* Collection paths under API_BASE_PATH; the route table and links use them. */
#define API_PATH_NETWORKS     "/object/networks"
#define API_PATH_INTERNAL     "/object/internalcertificates"
#define API_PATH_CA           "/object/externalcacertificates"
#define API_PATH_TELEMETRY    "/devicesettings/default/telemetrystreamingconfig"
#define API_PATH_TEL_STATUSES "/operational/telemetrystreamingstatuses"
#define API_PATH_IKE_POLICIES "/object/ikepolicies"
#define API_PATH_PSKS         "/object/presharedkeys"
#define API_PATH_XFORM_SETS   "/object/transformsets"
#define API_PATH_CRYPTO_MAPS  "/object/cryptomaps"
#define API_PATH_IP_POOLS     "/object/ippools"
#define API_PATH_DYN_MAPS     "/object/dynamiccryptomaps"
#define API_PATH_LOCAL_USERS  "/object/localusers"
#define API_PATH_TUNNEL_IFS   "/object/tunnelinterfaces"
#define API_PATH_DPD          "/devicesettings/default/dpd"
#define API_PATH_IKE_SETTINGS "/devicesettings/default/ike"
#define API_PATH_IKE_SAS      "/operational/ikesas"
#define API_PATH_IPSEC_SAS    "/operational/ipsecsas"
#define API_PATH_TUNNELS      "/operational/tunnels"
#define API_PATH_IKE_STATS    "/operational/ikestatistics"
#define API_PATH_POOL_STATUS  "/operational/ippools"
#define API_PATH_TUNNEL_IF_STATUS "/operational/tunnelinterfaces"
#define API_PATH_CLEAR        "/operational/clearsessions"

/* A 4xx/5xx answer: {"error": {"status", "message", "field"}} (json.c). */
struct api_err {
	int  status;
	char message[API_MSG_MAX];
	char field[API_FIELD_MAX];	/* JSON path; empty: no field */
};
/* Fills err and returns -1, so callers can "return api_errf(...)". */
int api_errf(struct api_err *err, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes err->field with where: "networks[2]" + "value". */
void api_err_within(struct api_err *err, const char *where);

enum api_obj {
	API_OBJ_NETWORK,
	API_OBJ_INTERNAL_CERT,
	API_OBJ_CA_CERT,
	API_OBJ_TELEMETRY,
	API_OBJ_IKE_POLICY,
	API_OBJ_PSK,
	API_OBJ_TRANSFORM_SET,
	API_OBJ_CRYPTO_MAP,
	API_OBJ_IP_POOL,
	API_OBJ_DYNAMIC_MAP,
	API_OBJ_LOCAL_USER,
	API_OBJ_TUNNEL_IF,
	API_OBJ_DPD,
	API_OBJ_IKE_SETTINGS,
	API_OBJ__COUNT
};

enum api_fkind {
	API_F_STR,	/* char[size] inside the struct */
	API_F_TEXT,	/* char *, free text (description) */
	API_F_PEM,	/* char *, PEM text */
	API_F_SECRET,	/* char *, write-only, wiped on free */
	API_F_UINT,	/* unsigned integer, size 2 or 4 bytes */
	API_F_ENUM,	/* int-sized enum; names[] are the JSON strings */
	API_F_CONST,	/* no storage; the only accepted value is names[0] */
	API_F_REF,	/* struct cfg_ref to an object of type ref; id "" (JSON null) is
			 * none, when the field is not API_REQUIRED */
	API_F_BOOL,	/* bool */
	API_F_IPV4,	/* uint32_t, host order; JSON "10.1.1.1" */
	API_F_PREFIX,	/* struct cfg_prefix; JSON "10.1.0.0/16" ("10.1.1.1" is /32) */
	API_F_LIST,	/* array[max] of sub[0], size bytes apart; size_t count at count_off */
	API_F_OBJECT,	/* a nested JSON object: the n_sub fields in sub (their
			 * defaults when it is left out) */
	API_F_PASSWORD,	/* write-only: hashed (core/passwd.h) into the char[size] of
			 * the API_F_PWHASH field at the same offset */
	API_F_PWHASH,	/* char[size], a core/passwd.h hash string: in config.json
			 * and the journal, never in the API view */
	API_F_PEMS,	/* char *, PEM blocks one after another (NULL: none); JSON an
			 * array of min..max strings, each one block of the label
			 * names[0] ("X509 CRL") of up to CFG_PEM_MAX characters */
	API_F_PROTO,	/* uint8_t IP protocol: JSON a name of cfg_proto_name ("gre")
			 * or a number 0..255; read back as its name when it has one */
	API_F_IFADDR,	/* an interface address "10.10.10.2/30" (prefix 1..32, host
			 * bits kept): uint32_t at offset, the unsigned prefix length
			 * at count_off */
};
/* List elements and nested objects hold no heap memory (no TEXT, PEM,
 * SECRET inside): clearing an object only walks its top-level fields. */

/* What the API view never shows, not even masked. */
static inline int
api_field_secret(enum api_fkind kind)
{
	return kind == API_F_SECRET || kind == API_F_PASSWORD || kind == API_F_PWHASH;
}

#define API_REQUIRED 0x01	/* absent or null: 400 */
#define API_NUMSTR   0x02	/* an integer may come as a numeric string */
#define API_KEEP     0x04	/* PUT may omit it to keep the stored value (top level) */
#define API_ONELINE  0x08	/* a SECRET without line breaks or tabs */
#define API_SPARSE   0x10	/* a UINT left out of the encoding while it holds its
				 * default (a port of a match line: 0, any) */

/* A value refused with its own reason rather than "must be one of":
 * {"des", "DES/3DES are insecure and not supported; use aes or aes-256"}.
 * Integers match by their decimal text. */
struct api_legacy {
	const char *value;
	const char *why;
};

struct api_field {
	const char         *json;
	enum api_fkind      kind;
	unsigned            flags;
	size_t              offset;
	size_t              size;	/* API_F_STR buffer, API_F_UINT width */
	long long           min, max;	/* integer range, or string length */
	long long           def;	/* integer or enum index when absent */
	const char *const  *names;	/* API_F_ENUM (a NULL name is JSON null), API_F_CONST */
	size_t              n_names;
	enum api_obj        ref;	/* API_F_REF target type */
	const long long    *choices;	/* API_F_UINT: the only values allowed, or NULL */
	size_t              n_choices;
	const struct api_legacy *legacy;	/* refused values with a reason */
	size_t              n_legacy;
	const struct api_field *sub;	/* API_F_LIST: the element; API_F_OBJECT: its fields */
	size_t              n_sub;
	size_t              count_off;	/* API_F_LIST: offset of its size_t count;
					 * API_F_IFADDR: of its unsigned prefix length */
	/* Another field filling the same storage (password, passwordHash):
	 * a body gives at most one of the two, and either one will do. */
	const char         *either;
};

#define API_SINGLE ((size_t)-1)	/* count_off: the config holds one pointer */
#define API_FIXED  ((size_t)-2)	/* count_off: the config embeds the one object */

struct api_type {
	enum api_obj            obj;
	const char             *type;	/* "networkobject" */
	const char             *path;	/* collection path under the base */
	size_t                  size;	/* sizeof the cfg_* struct (meta first) */
	size_t                  list_off;	/* struct config: pointer to the items */
	size_t                  count_off;	/* struct config: size_t, or API_SINGLE */
	size_t                  max_items;	/* or API_OBJECTS_MANY: see api_max_items */
	const struct api_field *fields;
	size_t                  n_fields;
	/* Cross-field and content checks on one decoded object. */
	int (*check)(const void *obj, struct api_err *err);
	/* A clash with another object of cfg's collection (not obj's own id)
	 * beyond the name: a 409 naming the field. NULL: none. */
	int (*conflict)(const struct config *cfg, const void *obj, struct api_err *err);
	/* Checks that need the objects around obj: what it refers to, or who
	 * refers to it (the certificate the ike settings name must be able to
	 * sign). Run after check, on a change and on a deep validation.
	 * NULL: none. */
	int (*check_cfg)(const struct config *cfg, const void *obj, struct api_err *err);
};

extern const struct api_type api_types[API_OBJ__COUNT];

/* Field tables. */
#define F_NAME(T) { .json = "name", .kind = API_F_STR, .flags = API_REQUIRED, \
	.offset = offsetof(T, meta.name), .size = CFG_NAME_MAX, .min = 1, \
	.max = CFG_NAME_MAX - 1 }
#define F_DESCRIPTION(T) { .json = "description", .kind = API_F_TEXT, \
	.offset = offsetof(T, meta.description), .min = 0, .max = API_TEXT_MAX }
#define F_UINT(T, m, j, fl, lo, hi, d) { .json = j, .kind = API_F_UINT, .flags = fl, \
	.offset = offsetof(T, m), .size = sizeof(((T *)0)->m), .min = lo, .max = hi, \
	.def = d }
#define F_ENUM(T, m, j, fl, nm, cnt, d) { .json = j, .kind = API_F_ENUM, .flags = fl, \
	.offset = offsetof(T, m), .names = nm, .n_names = cnt, .def = d }
#define F_BOOL(T, m, j, d) { .json = j, .kind = API_F_BOOL, .offset = offsetof(T, m), \
	.def = d }

/* tunnel_if.c: the GRE tunnel interfaces, a type of its own file. */
#define API_TUNNEL_IF_FIELDS 7
extern const struct api_field api_tunnel_if_fields[API_TUNNEL_IF_FIELDS];
int api_tunnel_if_check(const void *obj, struct api_err *err);
int api_tunnel_if_conflict(const struct config *cfg, const void *obj, struct api_err *err);

int api_pem_certs_check(const char *pem, const char *field, struct api_err *err);
int api_pem_key_check(const char *cert_pem, const char *key_pem, struct api_err *err);

/* codec.c: collections inside a struct config, by type. */
size_t api_coll_count(const struct api_type *t, const struct config *cfg);
/* How many objects of t the config may hold. */
size_t api_max_items(const struct api_type *t);
void  *api_coll_at(const struct api_type *t, const struct config *cfg, size_t i);
void  *api_coll_find(const struct api_type *t, const struct config *cfg, const char *id,
		     size_t *index);
/* Moves obj (t->size bytes) into cfg; obj's memory is then only a husk. */
void   api_coll_add(const struct api_type *t, struct config *cfg, void *obj);
void   api_coll_remove(const struct api_type *t, struct config *cfg, size_t i);
void   api_obj_clear(const struct api_type *t, void *obj);
/* Frees the memory an object was moved out of (api_coll_add, a replace):
 * wiped first, because a password hash is held in place, not on the heap. */
void   api_husk_free(const struct api_type *t, void *obj);
static inline struct cfg_meta *api_meta(void *obj) { return obj; }
static inline const struct cfg_meta *api_cmeta(const void *obj) { return obj; }

enum api_dec_mode {
	API_DEC_CREATE,	/* POST: id/version/links ignored */
	API_DEC_UPDATE,	/* PUT: version required, API_KEEP fields from old */
	API_DEC_STORE,	/* config.json: id and version required */
};

struct api_dec {
	enum api_dec_mode    mode;
	const struct config *cfg;	/* resolves references; NULL: not here */
	const void          *old;	/* API_DEC_UPDATE: the stored object */
};

/* Decodes a JSON object into obj (zeroed, t->size bytes). On failure obj
 * is cleared again and err names the field. */
int api_obj_decode(const struct api_type *t, json_t *in, const struct api_dec *d, void *obj,
		   struct api_err *err);
/* self_base "http://host/api/v1": the API view (no secrets, links, full
 * refs). NULL: the stored view (secrets kept, no links). */
json_t *api_obj_encode(const struct api_type *t, const void *obj, const struct config *cfg,
		       const char *self_base);
/* The object named `name` in t's collection other than except_id, or NULL. */
const void *api_name_find(const struct api_type *t, const struct config *cfg, const char *name,
			  const char *except_id);
/* Who refers to t's object id: 0 when nobody, else -1 with a 409. */
int api_referrers_check(const struct config *cfg, const struct api_type *t, const char *id,
			struct api_err *err);
/* Whole-config invariants: unique names, refs resolve, caps; deep also
 * runs every object's check (certificates parse). Fields "networks[2].x". */
int api_config_validate(const struct config *cfg, int deep, struct api_err *err);
void api_version_new(char out[CFG_VERSION_LEN]);
/* The key of t's collection in config.json: the last path segment. */
const char *api_store_key(const struct api_type *t);

/* store.c */
json_t *api_config_encode(const struct config *cfg);
int     api_config_decode(json_t *root, struct config **out, struct api_err *err);
int     api_config_save(const char *state_dir, const struct config *cfg, struct api_err *err);
/* One change, appended to config.journal and on disk before it returns 0
 * (else nothing was written; err says why). */
int     api_journal_put(struct api *api, const struct api_type *t, const void *obj,
			const struct config *cfg, struct api_err *err);
int     api_journal_delete(struct api *api, const struct api_type *t, const char *id,
			   struct api_err *err);
/* After a change: once the journal holds more changes than the config has
 * objects (and at least API_JOURNAL_FOLD), config.json is rewritten and
 * the journal emptied, so a change costs O(1) amortised. */
void    api_journal_fold(struct api *api, const struct config *cfg);
/* Reads STATE_DIR/api-token, creating it (0600) when missing and fixing
 * looser permissions. out holds API_TOKEN_HEX characters and a NUL. */
int     api_token_load(const char *state_dir, char out[static API_TOKEN_HEX + 1]);

/* dispatch.c: the HTTP-free core. */
struct api {
	char               *state_dir;
	int                 journal_fd;	/* config.journal, opened at the first change */
	size_t              journal_lines;	/* changes in it since config.json */
	char               *listen;	/* fallback host for links.self */
	struct api_hooks    hooks;
	char                token[API_TOKEN_HEX + 1];
	struct event_base  *base;
	struct evhttp      *http;	/* NULL when built by api_core_new */
};

struct api_req {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* "/api/v1/object/networks/<id>", not decoded */
	const char *query;	/* "filter=name:X" or NULL */
	const char *host;	/* Host header or NULL */
	const char *body;	/* NUL-terminated, or NULL */
	size_t      body_len;
};

struct api_resp {
	int   status;
	char *body;		/* JSON text (malloc) or NULL for 204 */
	char  allow[64];	/* 405: the methods the path accepts */
};

/* One request on its way through a route's handler. A handler returns 0
 * with out (NULL: 204) and status set, or -1 with err set. */
struct api_call {
	struct api            *api;
	const struct api_req  *req;
	const struct api_type *t;	/* the route's object type, or NULL */
	char                   id[UUID_STR_LEN + 8];	/* {id} in the path */
	char                   self_base[API_HOST_MAX + 32];	/* "http://host/api/v1" */
	int                    status;
	json_t                *out;
	struct api_err         err;
};

/* collection.c: the five handlers every collection has. */
int api_h_list(struct api_call *c);
int api_h_get(struct api_call *c);
int api_h_create(struct api_call *c);
int api_h_update(struct api_call *c);
int api_h_delete(struct api_call *c);

/* vpn.c: singleton settings (GET and PUT on the path itself), the
 * operational views through hooks.vpn_view, clear sessions. */
int api_h_single_get(struct api_call *c);
int api_h_single_update(struct api_call *c);
int api_h_ike_sas(struct api_call *c);
int api_h_ipsec_sas(struct api_call *c);
int api_h_tunnels(struct api_call *c);
int api_h_ike_stats(struct api_call *c);
int api_h_ip_pools(struct api_call *c);
int api_h_tunnel_ifs(struct api_call *c);
int api_h_clear_sessions(struct api_call *c);

/* No token, no socket: what tests and the fuzzers drive. */
struct api *api_core_new(const char *state_dir, const char *listen, const struct api_hooks *hooks);
void        api_dispatch(struct api *api, const struct api_req *req, struct api_resp *resp);
void        api_resp_free(struct api_resp *resp);
/* 0 when the Authorization header carries the token (constant time). */
int         api_auth_check(const struct api *api, const char *authorization);
char       *api_error_body(const struct api_err *err);
const char *api_status_reason(int status);
/* json.c: a new JSON text (free, or free_secret when it holds keys); NULL
 * past API_TEXT_OUT_MAX. */
char       *api_json_text(json_t *j);
char       *api_json_line(json_t *j);	/* the same on one line (the journal) */

#endif
