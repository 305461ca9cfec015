/*
 * `vpnctl import-ios`: translates an IOS crypto configuration (crypto
 * isakmp policy/key/keepalive/identity, crypto ipsec transform-set, crypto
 * map, access-list; for remote access crypto dynamic-map, client
 * configuration, ip local pool, aaa authentication login, username; for
 * GRE over IPsec interface TunnelN) into the agent's API objects, in
 * dependency order, plus one diagnostic per line it cannot honour. Pure:
 * text in, objects and diagnostics out; no I/O, no HTTP, so it links alone
 * into tests and fuzzers.
 */
#ifndef CLI_IOS_IMPORT_H
#define CLI_IOS_IMPORT_H

#include <stddef.h>

#include <jansson.h>

#include "core/strbuf.h"

#define IOS_TEXT_MAX     (4 * 1024 * 1024)	/* bytes of one file */
#define IOS_LINE_MAX     1024	/* characters of one line; longer crypto lines are refused */
#define IOS_WORDS_MAX    48	/* words of one line */
#define IOS_OBJECTS_MAX  1024	/* per collection and file (the agent takes more) */
#define IOS_ACLS_MAX     1024	/* access lists remembered */
#define IOS_DIAGS_MAX    1000	/* then one last error and the rest of the file is ignored */
#define IOS_MESSAGE_MAX  400	/* characters of one diagnostic */

/* What an object is, in the order the objects are sent: the settings the
 * tunnels start with first, then what crypto maps refer to (transform sets,
 * address pools) and the XAUTH users they check, crypto maps, the dynamic
 * ones after the static ones, and GRE tunnel interfaces last. The names
 * are the API's `type` values. */
enum ios_kind {
	IOS_IKE_SETTINGS,	/* PUT /devicesettings/default/ike */
	IOS_DPD,		/* PUT /devicesettings/default/dpd */
	IOS_IKE_POLICY,
	IOS_PSK,
	IOS_TRANSFORM_SET,
	IOS_IP_POOL,
	IOS_LOCAL_USER,
	IOS_CRYPTO_MAP,
	IOS_DYNAMIC_MAP,
	IOS_TUNNEL_IF,		/* last: their GRE leaves once the crypto maps protect it */
	IOS_KIND__COUNT
};
extern const char *const ios_kind_names[IOS_KIND__COUNT];
extern const char *const ios_kind_paths[IOS_KIND__COUNT];

#define IOS_REFS_MAX 7	/* a map's transform sets (CFG_MAP_XFORMS_MAX) and its address pool */

/* A reference in an object's body to an object sent before it:
 * body.FIELD[index], or body.FIELD itself when index is -1, names
 * objs[obj]; the caller adds the id the agent gave that object. */
struct ios_objref {
	size_t      obj;
	const char *field;	/* "transformSets", "addressPool" */
	int         index;
};

struct ios_object {
	enum ios_kind     kind;
	const char       *method;	/* "POST", or "PUT" for the two singletons */
	const char       *path;		/* API path, relative to /api/v1 */
	unsigned          line;		/* where the IOS text defines it */
	json_t           *body;		/* owned. Singletons: only the fields IOS sets;
					 * the caller merges them into the current object */
	struct ios_objref refs[IOS_REFS_MAX];	/* crypto maps, static and dynamic */
	size_t            n_refs;
};

enum ios_severity { IOS_NOTE, IOS_ERROR };

struct ios_diag {
	unsigned          line;
	enum ios_severity severity;
	char             *msg;	/* owned; printable ASCII, never a key */
};

struct ios_result {
	char              *file;	/* names the text in messages */
	struct ios_object *objs;	/* dependency order */
	size_t             n_objs;
	struct ios_diag   *diags;	/* by line */
	size_t             n_diags;
	size_t             n_errors;	/* nothing may be applied unless 0 */
};

/* Translates len bytes of IOS text; file names it in the messages. Always
 * fills res (free with ios_result_free); cannot fail otherwise. */
void ios_import(const char *text, size_t len, const char *file, struct ios_result *res);
void ios_result_free(struct ios_result *res);

/* "FILE:LINE: error: ..." / "FILE:LINE: note: ..." lines. */
void ios_format_diags(const struct ios_result *res, struct strbuf *out);
/* "METHOD PATH" and the indented JSON body of each object, a blank line
 * between them; pre-shared keys and passwords are masked. What --dry-run
 * prints. */
void ios_format_objects(const struct ios_result *res, struct strbuf *out);

#endif
