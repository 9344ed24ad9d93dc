/*  apicall: GET on the services' JSON APIs (see apicall.h). */
#include "apicall.h"
#include "httpget.h"

#include "money.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cli_service_t cli_reporting = { "reporting", "CREANCE_REPORTING_HTTP", "127.0.0.1:8080" };
const cli_service_t cli_reminders = { "reminders", "CREANCE_REMINDERS_HTTP", "127.0.0.1:8083" };

void
cli_path_init(cli_path_t *p, const char *path)
{
    snprintf(p->text, sizeof p->text, "%s", path);
    p->has_query = strchr(path, '?') != NULL;
}

void
cli_path_add(cli_path_t *p, const char *name, const char *value)
{
    if (!value)
        return;
    char *esc = curl_easy_escape(NULL, value, 0);
    size_t n = strlen(p->text);
    snprintf(p->text + n, sizeof p->text - n, "%c%s=%s", p->has_query ? '&' : '?', name,
             esc ? esc : "");
    curl_free(esc);
    p->has_query = true;
}

int
cli_api_get(const cli_t *cli, const cli_service_t *svc, const char *path, const char *what,
            json_t **json, char **raw)
{
    return cli_api_call(cli, svc, "GET", path, cli->token, NULL, what, json, raw);
}

int
cli_api_call(const cli_t *cli, const cli_service_t *svc, const char *method,
             const char *path, const char *token, const char *request_body, const char *what,
             json_t **json, char **raw)
{
    if (json)
        *json = NULL;
    if (raw)
        *raw = NULL;
    const char *addr = cli_env(svc->env, svc->dflt);
    char url[1600];
    snprintf(url, sizeof url, "%s%s%s", strstr(addr, "://") ? "" : "http://", addr, path);
    cli_http_reply_t reply;
    int rc;
    if (cli_http_request(method, url, token, request_body, cli->timeout_s, &reply) != 0) {
        rc = cli_fail(cli, "%s unreachable at %s: %s", svc->name, url, reply.error);
        cli_http_reply_free(&reply);
        return rc;
    }
    json_error_t jerr;
    json_t *body = json_loads(reply.body, 0, &jerr);
    if (reply.status < 200 || reply.status > 299) {
        json_t *err = json_object_get(body, "error");
        const char *field = json_string_value(json_object_get(err, "field"));
        const char *reason = json_string_value(json_object_get(err, "reason"));
        if (reply.status == 404 && what)
            rc = cli_fail(cli, "%s not found (%s)", what, reason ? reason : "404");
        else if (reason)
            rc = cli_fail(cli, "%s answered %ld: %s%s%s", svc->name, reply.status,
                          field ? field : "", field ? ": " : "", reason);
        else
            rc = cli_fail(cli, "%s answered %ld: %.200s", svc->name, reply.status, reply.body);
        json_decref(body);
        cli_http_reply_free(&reply);
        return rc;
    }
    if (json) {
        if (!body) {
            rc = cli_fail(cli, "%s at %s answered something that is not JSON: %s", svc->name,
                          url, jerr.text);
            cli_http_reply_free(&reply);
            return rc;
        }
        *json = body;
    }
    else
        json_decref(body);
    if (raw) {
        *raw = reply.body;
        reply.body = NULL;
    }
    cli_http_reply_free(&reply);
    return CLI_OK;
}

static bool
s_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/*  v / div with `places` decimals, exactly (integers only). */
static void
s_fixed(int64_t v, int64_t div, int places, const char *unit, char *out, size_t len)
{
    const char *sign = v < 0 ? "-" : "";
    uint64_t a = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    snprintf(out, len, "%s%" PRIu64 ".%0*" PRIu64 "%s", sign, a / (uint64_t) div, places,
             a % (uint64_t) div, unit);
}

const char *
cli_json_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

void
cli_api_value(const char *key, const json_t *v, const char *currency, char *out, size_t len)
{
    if (!v || json_is_null(v)) {
        snprintf(out, len, "-");
        return;
    }
    if (json_is_string(v)) {
        snprintf(out, len, "%s", json_string_value(v));
        return;
    }
    if (json_is_boolean(v)) {
        snprintf(out, len, "%s", json_is_true(v) ? "yes" : "no");
        return;
    }
    if (json_is_array(v)) {
        /* A list of ids: "12 13 14". */
        size_t n = 0, i;
        json_t *x;
        out[0] = '\0';
        json_array_foreach(v, i, x) {
            char one[64];
            cli_api_value("", x, currency, one, sizeof one);
            int w = snprintf(out + n, len - n, "%s%s", i ? " " : "", one);
            if (w < 0 || (size_t) w >= len - n) {
                out[n] = '\0';         /* no half number at the end */
                break;
            }
            n += (size_t) w;
        }
        return;
    }
    if (!json_is_integer(v)) {
        snprintf(out, len, "?");
        return;
    }
    int64_t n = (int64_t) json_integer_value(v);
    if (s_suffix(key, "_minor") && currency && currency_exponent(currency) >= 0)
        money_format(n, currency, out, len);
    else if (s_suffix(key, "_x10"))
        s_fixed(n, 10, 1, "", out, len);
    else if (s_suffix(key, "_x100"))
        s_fixed(n, 100, 2, "", out, len);
    else if (s_suffix(key, "_bp"))
        s_fixed(n, 100, 2, " %", out, len);
    else
        snprintf(out, len, "%" PRId64, n);
}

void
cli_api_header(const char *key, char *out, size_t len)
{
    static const char *const suffixes[] = { "_minor", "_x100", "_x10", "_bp", NULL };
    snprintf(out, len, "%s", key);
    for (const char *const *s = suffixes; *s; s++)
        if (s_suffix(out, *s)) {
            out[strlen(out) - strlen(*s)] = '\0';
            break;
        }
}
