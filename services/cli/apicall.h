/*  apicall: the services' HTTP JSON APIs as the commands use them: a GET
    with the bearer token, the address from the service's CREANCE_*_HTTP
    variable, and one message per way it can fail ("reminders unreachable
    at http://...: ...", "reporting answered 400: as_of: expected a date").
    Also the query string builder and the formatting of API values
    (minor units, tenths, basis points) for tables. */
#ifndef CLI_APICALL_H
#define CLI_APICALL_H

#include "cli.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    const char *name;           /* "reporting", "reminders": for messages */
    const char *env;            /* "CREANCE_REPORTING_HTTP" */
    const char *dflt;           /* "127.0.0.1:8080" */
} cli_service_t;

extern const cli_service_t cli_reporting, cli_reminders;

/*  A path with a query string being built: "/api/v1/kpis?as_of=...". */
typedef struct {
    char text[1024];
    bool has_query;
} cli_path_t;

void cli_path_init(cli_path_t *p, const char *path);
/*  Appends "name=value" (value percent-encoded); a NULL value is skipped. */
void cli_path_add(cli_path_t *p, const char *name, const char *value);

/*  GET `path` from `svc` with cli->token. On 200: *json gets the parsed
    body when `json` is not NULL, *raw the body text when `raw` is not NULL
    (caller frees both), and CLI_OK. Otherwise prints why and returns
    CLI_FAILED; a 404 is reported as "<what> not found" when `what` is not
    NULL. */
int cli_api_get(const cli_t *cli, const cli_service_t *svc, const char *path, const char *what,
                json_t **json, char **raw);
/*  The same with `method`, the bearer `token` given (the operator's, for
    the admin API) and `body` (JSON text, or NULL). Any 2xx is success. */
int cli_api_call(const cli_t *cli, const cli_service_t *svc, const char *method,
                 const char *path, const char *token, const char *body, const char *what,
                 json_t **json, char **raw);

/*  A string member of an API object, "" when absent or not a string. */
const char *cli_json_str(const json_t *o, const char *key);

/*  A value of an API row as text for a table: by the key's suffix,
    "_minor" money in `currency` ("1234.50"), "_x10" tenths ("12.5"),
    "_x100" hundredths, "_bp" basis points as a percentage ("12.34 %");
    null "-"; strings as they are; other numbers in decimal. */
void cli_api_value(const char *key, const json_t *v, const char *currency, char *out, size_t len);
/*  The column header of a key: its unit suffix dropped ("outstanding"). */
void cli_api_header(const char *key, char *out, size_t len);

#endif
