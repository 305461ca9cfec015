/*
 * What the API keeps in STATE_DIR: config.json (every object, private keys
 * included, mode 0600, replaced atomically so a crash leaves the old or the
 * new file), config.journal (the changes since, 0600) and api-token (the
 * bearer token, 32 random bytes in hex, 0600; opened O_NOFOLLOW and fixed
 * through its descriptor, never by name).
 *
 * A change is one line appended to the journal and on disk before it is
 * answered: {"put": KEY, "object": {...}} or {"delete": KEY, "id": ID}.
 * So a change costs what it changes, not the size of the configuration
 * 10,000 crypto-map entries). Loading replays the journal over
 * config.json and folds it in (a new config.json, no journal); so does a
 * change that finds the journal longer than the configuration. Replaying
 * a line twice changes nothing (a put replaces by id, a delete of a
 * missing id is nothing), so a crash between the two steps of a fold is
 * harmless. A last line without its newline was never answered: dropped.
 */
#include "api/api_int.h"
#include "core/files.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define STORE_FORMAT 1	/* "formatVersion" of config.json */

static int
state_path(char *out, size_t size, const char *state_dir, const char *file)
{
	if (snprintf(out, size, "%s/%s", state_dir, file) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

json_t *
api_config_encode(const struct config *cfg)
{
	json_t *root = json_object();

	json_object_set_new(root, "formatVersion", json_integer(STORE_FORMAT));
	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++) {
		const struct api_type *t = &api_types[ti];
		size_t n = api_coll_count(t, cfg);
		json_t *items = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(items, api_obj_encode(t, api_coll_at(t, cfg, i), cfg,
								    NULL));
		json_object_set_new(root, api_store_key(t), items);
	}
	return root;
}

static const struct api_type *
type_by_store_key(const char *key)
{
	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++)
		if (strcmp(api_store_key(&api_types[ti]), key) == 0)
			return &api_types[ti];
	return NULL;
}

static int
decode_items(const struct api_type *t, json_t *items, struct config *cfg, struct api_err *err)
{
	const char *key = api_store_key(t);
	struct api_dec d = { .mode = API_DEC_STORE };
	char where[64];
	json_t *v;
	size_t i;

	if (!json_is_array(items))
		return api_errf(err, 400, key, "%s must be an array", key);
	if (json_array_size(items) > api_max_items(t))
		return api_errf(err, 400, key, "%s holds more than %zu items (vpn-agent "
				"--max-objects)", key, api_max_items(t));
	json_array_foreach(items, i, v) {
		void *obj = xcalloc(1, t->size);

		if (api_obj_decode(t, v, &d, obj, err) == -1) {
			api_husk_free(t, obj);
			snprintf(where, sizeof(where), "%s[%zu]", key, i);
			api_err_within(err, where);
			return -1;
		}
		api_coll_add(t, cfg, obj);
		api_husk_free(t, obj);
	}
	return 0;
}

int
api_config_decode(json_t *root, struct config **out, struct api_err *err)
{
	struct config *cfg = config_new();
	const char *key;
	json_t *v;
	int rc = -1;

	if (!json_is_object(root)) {
		api_errf(err, 400, "", "the top level must be a JSON object");
		goto done;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "formatVersion") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != STORE_FORMAT) {
				api_errf(err, 400, key, "formatVersion must be %d (written by a "
					 "newer agent?)", STORE_FORMAT);
				goto done;
			}
		} else if (type_by_store_key(key) == NULL) {
			api_errf(err, 400, key, "unknown key %s", key);
			goto done;
		}
	}
	if (json_object_get(root, "formatVersion") == NULL) {
		api_errf(err, 400, "formatVersion", "formatVersion is missing");
		goto done;
	}
	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++) {
		const struct api_type *t = &api_types[ti];

		if ((v = json_object_get(root, api_store_key(t))) != NULL &&
		    decode_items(t, v, cfg, err) == -1)
			goto done;
	}
	if (api_config_validate(cfg, 1, err) == -1)
		goto done;
	*out = cfg;
	cfg = NULL;
	rc = 0;
done:
	config_free(cfg);
	return rc;
}

int
api_config_save(const char *state_dir, const struct config *cfg, struct api_err *err)
{
	char path[PATH_MAX];
	json_t *root = api_config_encode(cfg);
	char *text = api_json_text(root);
	int rc = -1;

	json_decref(root);
	if (text == NULL) {
		api_errf(err, 500, "", "cannot render the configuration (over %d bytes?)",
			 API_TEXT_OUT_MAX);
		goto done;
	}
	if (state_path(path, sizeof(path), state_dir, API_CONFIG_FILE) == -1 ||
	    file_write_atomic(path, text, strlen(text), 0600) == -1) {
		api_errf(err, 500, "", "cannot save the configuration in %s/%s: %s; nothing "
			 "was changed", state_dir, API_CONFIG_FILE, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free_secret(text);
	return rc;
}

/* ---- the journal -------------------------------------------------------- */

static int
journal_append(struct api *api, json_t *line, struct api_err *err)
{
	char path[PATH_MAX], why[FILE_WHY_MAX];
	char *text = api_json_line(line);
	struct stat st;
	size_t len, done = 0;
	off_t at;
	int rc = -1;

	json_decref(line);
	if (text == NULL)
		return api_errf(err, 500, "", "cannot render the change");
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: written as a length below */
	if (api->journal_fd != -1 && (fstat(api->journal_fd, &st) == -1 || st.st_nlink == 0)) {
		close(api->journal_fd);		/* folded by a load: a new one */
		api->journal_fd = -1;
		api->journal_lines = 0;
	}
	if (api->journal_fd == -1) {
		if (state_path(path, sizeof(path), api->state_dir, API_JOURNAL_FILE) == -1 ||
		    (api->journal_fd = file_open_append(path, why, sizeof(why))) == -1) {
			api_errf(err, 500, "", "cannot save the configuration: %s/%s %s; nothing "
				 "was changed", api->state_dir, API_JOURNAL_FILE,
				 api->journal_fd == -1 && errno == ENAMETOOLONG ? "has too long a "
				 "name" : why);
			goto done;
		}
	}
	at = lseek(api->journal_fd, 0, SEEK_END);
	while (done < len) {
		ssize_t n = write(api->journal_fd, text + done, len - done);

		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			done += (size_t)n;
	}
	if (done < len || fdatasync(api->journal_fd) == -1) {
		api_errf(err, 500, "", "cannot save the configuration in %s/%s: %s; nothing was "
			 "changed", api->state_dir, API_JOURNAL_FILE, strerror(errno));
		if (at != -1 && ftruncate(api->journal_fd, at) == -1)
			log_warn("api: cannot cut the failed change from %s", API_JOURNAL_FILE);
		goto done;
	}
	api->journal_lines++;
	rc = 0;
done:
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int
api_journal_put(struct api *api, const struct api_type *t, const void *obj,
		const struct config *cfg, struct api_err *err)
{
	return journal_append(api, json_pack("{s:s, s:o}", "put", api_store_key(t), "object",
					     api_obj_encode(t, obj, cfg, NULL)), err);
}

int
api_journal_delete(struct api *api, const struct api_type *t, const char *id,
		   struct api_err *err)
{
	return journal_append(api, json_pack("{s:s, s:s}", "delete", api_store_key(t), "id", id),
			      err);
}

static size_t
objects_count(const struct config *cfg)
{
	size_t n = 0;

	for (size_t ti = 0; ti < API_OBJ__COUNT; ti++)
		n += api_coll_count(&api_types[ti], cfg);
	return n;
}

void
api_journal_fold(struct api *api, const struct config *cfg)
{
	struct api_err err;

	if (api->journal_fd == -1 || api->journal_lines <= API_JOURNAL_FOLD + objects_count(cfg))
		return;
	if (api_config_save(api->state_dir, cfg, &err) == -1) {
		log_warnx("api: %s (the journal keeps the changes)", err.message);
		return;
	}
	if (ftruncate(api->journal_fd, 0) == -1 || fdatasync(api->journal_fd) == -1) {
		log_warn("api: cannot empty %s/%s (its changes are in %s: replaying them is "
			 "harmless)", api->state_dir, API_JOURNAL_FILE, API_CONFIG_FILE);
		return;
	}
	api->journal_lines = 0;
}

/* One line of the journal, over cfg. */
static int
replay_line(struct config *cfg, const char *line, size_t len, struct api_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	const struct api_type *t = NULL;
	const char *key = NULL, *id;
	struct api_dec d = { .mode = API_DEC_STORE };
	size_t idx;
	void *obj;
	int rc = -1;

	if (j == NULL) {
		api_errf(err, 400, "", "not JSON (column %d: %s)", jerr.column, jerr.text);
		goto done;
	}
	if ((v = json_object_get(j, "put")) != NULL || (v = json_object_get(j, "delete")) != NULL)
		key = json_string_value(v);
	if (key == NULL || (t = type_by_store_key(key)) == NULL || json_object_size(j) != 2) {
		api_errf(err, 400, "", "neither a put nor a delete of a known collection");
		goto done;
	}
	if (json_object_get(j, "delete") != NULL) {
		if ((id = json_string_value(json_object_get(j, "id"))) == NULL) {
			api_errf(err, 400, "id", "a delete names an id");
			goto done;
		}
		if (api_coll_find(t, cfg, id, &idx) != NULL)
			api_coll_remove(t, cfg, idx);
		rc = 0;
		goto done;
	}
	obj = xcalloc(1, t->size);
	if (api_obj_decode(t, json_object_get(j, "object"), &d, obj, err) == -1) {
		api_husk_free(t, obj);
		goto done;
	}
	if (api_coll_find(t, cfg, api_meta(obj)->id, &idx) != NULL) {
		void *slot = api_coll_at(t, cfg, idx);

		api_obj_clear(t, slot);
		memcpy(slot, obj, t->size);
	} else {
		api_coll_add(t, cfg, obj);
	}
	api_husk_free(t, obj);
	rc = 0;
done:
	json_decref(j);
	return rc;
}

/* The journal over cfg; *lines: how many were replayed (or dropped). */
static int
journal_replay(const char *state_dir, struct config *cfg, size_t *lines)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0, at = 0, n = 0;
	struct api_err err;
	int rc = -1;

	*lines = 0;
	if (state_path(path, sizeof(path), state_dir, API_JOURNAL_FILE) == -1)
		return -1;
	if (file_read_all(path, API_JOURNAL_MAX, &text, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("api: cannot read %s", path);
		return -1;
	}
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);

		n++;
		if (nl == NULL) {
			log_warnx("api: %s: change %zu was cut short by a stop (never answered); "
				  "dropped", path, n);
			break;
		}
		if (replay_line(cfg, text + at, (size_t)(nl - (text + at)), &err) == -1) {
			log_warnx("api: %s: change %zu: %s%s%s; fix or remove the file", path, n,
				  err.field, err.field[0] ? ": " : "", err.message);
			goto done;
		}
		at = (size_t)(nl - text) + 1;
	}
	*lines = n;
	rc = 0;
done:
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

/* config.json with the journal folded in; the journal goes. */
static int
journal_fold_at_load(const char *state_dir, const struct config *cfg)
{
	char path[PATH_MAX];
	struct api_err err;

	if (api_config_save(state_dir, cfg, &err) == -1) {
		log_warnx("api: %s", err.message);
		return -1;
	}
	if (state_path(path, sizeof(path), state_dir, API_JOURNAL_FILE) == -1 ||
	    (unlink(path) == -1 && errno != ENOENT)) {
		log_warn("api: cannot remove %s/%s", state_dir, API_JOURNAL_FILE);
		return -1;
	}
	return 0;
}

/* config.json alone (none: an empty configuration). */
static int
base_load(const char *state_dir, struct config **out)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	json_t *root = NULL;
	json_error_t jerr;
	struct api_err err;
	int rc = -1;

	*out = NULL;
	if (state_path(path, sizeof(path), state_dir, API_CONFIG_FILE) == -1) {
		log_warn("api: %s/%s", state_dir, API_CONFIG_FILE);
		goto done;
	}
	if (file_read_all(path, API_CONFIG_FILE_MAX, &text, &len) == -1) {
		if (errno == ENOENT) {
			log_info("api: no %s yet, starting with an empty configuration", path);
			*out = config_new();
			rc = 0;
		} else {
			log_warn("api: cannot read %s", path);
		}
		goto done;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		log_warnx("api: %s is not valid JSON (line %d, column %d: %s)", path, jerr.line,
			  jerr.column, jerr.text);
		goto done;
	}
	if (api_config_decode(root, out, &err) == -1) {
		log_warnx("api: %s: %s%s%s; fix or remove the file", path, err.field,
			  err.field[0] ? ": " : "", err.message);
		goto done;
	}
	rc = 0;
done:
	json_decref(root);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	return rc;
}

int
api_config_load(const char *state_dir, struct config **out)
{
	struct config *cfg;
	struct api_err err;
	size_t lines;

	*out = NULL;
	if (base_load(state_dir, &cfg) == -1)
		return -1;
	if (journal_replay(state_dir, cfg, &lines) == -1)
		goto fail;
	if (lines > 0) {
		if (api_config_validate(cfg, 1, &err) == -1) {
			log_warnx("api: %s/%s: with its changes, %s%s%s; fix or remove the file",
				  state_dir, API_JOURNAL_FILE, err.field, err.field[0] ? ": " : "",
				  err.message);
			goto fail;
		}
		if (journal_fold_at_load(state_dir, cfg) == -1)
			goto fail;
		log_info("api: %zu change%s of %s folded into %s", lines, lines == 1 ? "" : "s",
			 API_JOURNAL_FILE, API_CONFIG_FILE);
	}
	*out = cfg;
	return 0;
fail:
	config_free(cfg);
	return -1;
}

/* ---- the bearer token --------------------------------------------------- */

static int
token_valid(const char *s)
{
	for (int i = 0; i < API_TOKEN_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[API_TOKEN_HEX] == '\0';
}

static int
token_create(const char *path, char out[static API_TOKEN_HEX + 1])
{
	char line[API_TOKEN_HEX + 2];

	random_hex(out, API_TOKEN_BYTES);
	snprintf(line, sizeof(line), "%s\n", out);
	if (file_write_atomic(path, line, strlen(line), 0600) == -1) {
		log_warn("api: cannot create %s", path);
		OPENSSL_cleanse(line, sizeof(line));
		return -1;
	}
	OPENSSL_cleanse(line, sizeof(line));
	log_info("api: created the API token in %s (mode 0600)", path);
	return 0;
}

/* The open token file: a regular file of ours, group/other bits taken
 * away through the descriptor (never chmod by name: that follows links). */
static int
token_file_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		log_warn("api: %s", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("api: %s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("api: %s is owned by uid %u, not by this process (uid %u)", path,
			  (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		log_warnx("api: %s was readable by group or others (mode %04o); fixed to 0600",
			  path, (unsigned)(st.st_mode & 07777));
		if (fchmod(fd, 0600) == -1) {
			log_warn("api: fchmod %s", path);
			return -1;
		}
	}
	return 0;
}

int
api_token_load(const char *state_dir, char out[static API_TOKEN_HEX + 1])
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	int fd, rc = -1;

	if (state_path(path, sizeof(path), state_dir, API_TOKEN_FILE) == -1) {
		log_warn("api: %s/%s", state_dir, API_TOKEN_FILE);
		return -1;
	}
	/* O_NONBLOCK: a FIFO there must not hang the start (refused as not
	 * a regular file) */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return token_create(path, out);
		if (errno == ELOOP)
			log_warnx("api: %s is a symbolic link; not followed (remove it to have "
				  "a new token made)", path);
		else
			log_warn("api: %s", path);
		return -1;
	}
	if (token_file_check(fd, path) == -1)
		goto done;
	if (file_read_fd(fd, 4096, &text, &len) == -1) {
		log_warn("api: cannot read %s", path);
		goto done;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' '))
		text[--len] = '\0';
	if (!token_valid(text)) {
		log_warnx("api: %s does not hold a token (%d lowercase hex characters); remove "
			  "it to have a new one made", path, API_TOKEN_HEX);
		goto done;
	}
	str_copy(out, API_TOKEN_HEX + 1, text);
	rc = 0;
done:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	close(fd);
	return rc;
}
