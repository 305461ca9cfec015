/*
 * vpnctl's side of the wire: reads the bearer token, sends one request to
 * the agent with libcurl (connect 3 s, total 30 s, capped answer) and turns
 * the answer into output and an exit code. The only file that includes
 * <curl/curl.h>.
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

void
vpnctl_http_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
vpnctl_http_cleanup(void)
{
	curl_global_cleanup();
}

static int
token_read(struct vpnctl *v)
{
	char *text = NULL;
	size_t len = 0;

	if (v->token != NULL)
		return VPNCTL_OK;
	if (file_read_all(v->token_file, VPNCTL_TOKEN_MAX, &text, &len) == -1) {
		fprintf(stderr, "vpnctl: cannot read token file %s: %s\n", v->token_file,
			errno == EFBIG ? "too large for a token" : strerror(errno));
		return VPNCTL_ETOKEN;
	}
	while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL)
		text[--len] = '\0';
	if (len == 0 || strpbrk(text, " \t\r\n") != NULL) {
		fprintf(stderr, "vpnctl: cannot read token file %s: it does not hold a token\n",
			v->token_file);
		free_secret(text);
		return VPNCTL_ETOKEN;
	}
	v->token = text;
	return VPNCTL_OK;
}

/* Escapes what a URL may not carry raw (spaces, quotes, non-ASCII); keeps
 * '/', '?', '&', '=', ':' and existing %-escapes as the user wrote them. */
static int
url_build(const struct vpnctl *v, const char *path, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n;
	int w;

	if (strncmp(path, VPNCTL_API_BASE "/", strlen(VPNCTL_API_BASE) + 1) == 0)
		path += strlen(VPNCTL_API_BASE);
	w = snprintf(out, size, "%s%s%s", v->api, VPNCTL_API_BASE, path[0] == '/' ? "" : "/");
	if (w < 0 || (size_t)w >= size)
		return -1;
	n = (size_t)w;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 4 > size)
			return -1;
		if (*p > 0x20 && *p < 0x7f && !strchr("\"<>\\^`{|}", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct vpnctl_resp *r = arg;
	size_t n = size * nmemb;

	if (n > VPNCTL_RESPONSE_MAX - r->len)
		return 0;	/* curl fails the transfer: CURLE_WRITE_ERROR */
	r->body = xreallocarray(r->body, r->len + n + 1, 1);
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static struct curl_slist *
headers_new(const struct vpnctl *v, int with_body)
{
	struct curl_slist *h = NULL;
	size_t n = strlen(v->token) + 32;
	char *auth = xmalloc(n);

	snprintf(auth, n, "Authorization: Bearer %s", v->token);
	h = curl_slist_append(h, auth);
	free_secret(auth);
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	if (with_body)
		h = curl_slist_append(h, "Content-Type: application/json");
	return h;
}

int
vpnctl_call(struct vpnctl *v, const char *method, const char *path, const char *body,
	    struct vpnctl_resp *resp)
{
	char url[VPNCTL_URL_MAX], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	CURL *curl = NULL;
	CURLcode cc;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if ((rc = token_read(v)) != VPNCTL_OK)
		return rc;
	if (url_build(v, path, url, sizeof(url)) == -1) {
		fprintf(stderr, "vpnctl: the URL for %s is too long\n", path);
		return VPNCTL_EUSAGE;
	}
	if ((curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "vpnctl: cannot initialise libcurl\n");
		return VPNCTL_EREACH;
	}
	hdr = headers_new(v, body != NULL);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)VPNCTL_CONNECT_S);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)VPNCTL_TOTAL_S);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if ((cc = curl_easy_perform(curl)) != CURLE_OK) {
		rc = VPNCTL_EREACH;
		if (cc == CURLE_WRITE_ERROR) {
			fprintf(stderr, "vpnctl: the agent's answer is larger than %d bytes\n",
				VPNCTL_RESPONSE_MAX);
			rc = VPNCTL_EAPI;
		} else {
			fprintf(stderr, "vpnctl: cannot reach the agent at %s: %s; is vpn-agent "
				"running?\n", v->api, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		}
		vpnctl_resp_free(resp);
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body == NULL)
		resp->body = xstrdup("");
	rc = VPNCTL_OK;
done:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	return rc;
}

void
vpnctl_resp_free(struct vpnctl_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static void
json_print(json_t *j, FILE *f)
{
	json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
}

int
vpnctl_api_error(struct vpnctl *v, const struct vpnctl_resp *resp)
{
	json_t *root = json_loads(resp->body, 0, NULL);
	json_t *e = json_object_get(root, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *field = json_string_value(json_object_get(e, "field"));

	if (v->json && root != NULL)
		json_print(root, stdout);
	if (resp->status == 401) {
		fprintf(stderr, "vpnctl: the agent refused the token from %s (401)\n",
			v->token_file);
	} else if (msg != NULL) {
		fprintf(stderr, "vpnctl: %ld: %s", resp->status, msg);
		if (field != NULL && *field != '\0')
			fprintf(stderr, " (field: %s)", field);
		fputc('\n', stderr);
	} else {
		fprintf(stderr, "vpnctl: the agent answered %ld%s%.200s\n", resp->status,
			resp->len ? ": " : "", resp->body);
	}
	json_decref(root);
	return VPNCTL_EAPI;
}

int
vpnctl_print(struct vpnctl *v, const struct vpnctl_resp *resp)
{
	json_t *root;

	if (resp->status < 200 || resp->status > 299)
		return vpnctl_api_error(v, resp);
	if (resp->len == 0)
		return VPNCTL_OK;	/* 204: a delete */
	if ((root = json_loadb(resp->body, resp->len, 0, NULL)) == NULL) {
		fwrite(resp->body, 1, resp->len, stdout);
		return VPNCTL_OK;
	}
	json_print(root, stdout);
	json_decref(root);
	return VPNCTL_OK;
}
