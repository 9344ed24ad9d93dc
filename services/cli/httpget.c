/*  httpget: HTTP GET over libcurl (see httpget.h). */
#include "httpget.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Answers larger than this are not a JSON API's: stop reading. */
#define MAX_BODY (64u * 1024 * 1024)

static size_t
s_write(char *data, size_t size, size_t nmemb, void *arg)
{
    cli_http_reply_t *r = arg;
    size_t n = size * nmemb;
    if (r->len + n > MAX_BODY)
        return 0;
    char *p = realloc(r->body, r->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + r->len, data, n);
    r->body = p;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

int
cli_http_get(const char *url, const char *token, int timeout_s, cli_http_reply_t *reply)
{
    return cli_http_request("GET", url, token, NULL, timeout_s, reply);
}

int
cli_http_request(const char *method, const char *url, const char *token, const char *body,
                 int timeout_s, cli_http_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(reply->error, sizeof reply->error, "cannot start libcurl");
        return -1;
    }
    struct curl_slist *headers = NULL;
    char auth[1024];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, auth);
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    }
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long) timeout_s);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long) timeout_s);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "creance-cli");
    CURLcode rc = curl_easy_perform(curl);
    int ret = 0;
    if (rc != CURLE_OK) {
        snprintf(reply->error, sizeof reply->error, "%s", curl_easy_strerror(rc));
        ret = -1;
    }
    else
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    if (!reply->body)
        reply->body = calloc(1, 1);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ret;
}

void
cli_http_reply_free(cli_http_reply_t *reply)
{
    free(reply->body);
    reply->body = NULL;
}
