/*  httpget: one HTTP request with libcurl, for the services' JSON APIs. */
#ifndef CLI_HTTPGET_H
#define CLI_HTTPGET_H

#include <stddef.h>

typedef struct {
    long status;                /* 0 when no answer came */
    char *body;                 /* NUL-terminated, caller frees */
    size_t len;
    char error[256];            /* transport error when status is 0 */
} cli_http_reply_t;

/*  GET `url` with "Authorization: Bearer <token>" when token is not NULL.
    Returns 0 when an answer came (whatever its status), -1 otherwise. */
int cli_http_get(const char *url, const char *token, int timeout_s, cli_http_reply_t *reply);
/*  The same with another method ("POST", "DELETE") and, when `body` is not
    NULL, a JSON request body. */
int cli_http_request(const char *method, const char *url, const char *token, const char *body,
                     int timeout_s, cli_http_reply_t *reply);
void cli_http_reply_free(cli_http_reply_t *reply);

#endif
