/*  config: table-driven configuration from the environment. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  What every service needs; defaults are the local stack's addresses. */
static const config_entry_t s_common[] = {
    { "CREANCE_DB_URL", "postgresql://creance@127.0.0.1:55432/creance", false,
      "PostgreSQL connection (libpq URI or key=value string)" },
    { "CREANCE_REDIS_URL", "redis://127.0.0.1:56379", false, "Redis address" },
    { "CREANCE_BROKER_PUB", "tcp://127.0.0.1:5550", false,
      "broker side publishers connect to (XSUB)" },
    { "CREANCE_BROKER_SUB", "tcp://127.0.0.1:5551", false,
      "broker side subscribers connect to (XPUB)" },
    { "CREANCE_LOG_LEVEL", "info", false, "debug, info, warn or error" },
    /* Paths, not keys: the secret halves stay in their files (curve.h). */
    { "CREANCE_CURVE_DIR", "", false,
      "CURVE keys: server.key, server.key_secret, authorized/ (empty: no CURVE, development only)" },
    { "CREANCE_CURVE_CERT", "", false,
      "this process's CURVE certificate NAME.key (secret half in NAME.key_secret)" },
    { NULL, NULL, false, NULL }
};

typedef struct {
    const config_entry_t *entry;
    char *value;
} config_value_t;

struct config_t {
    char *service;
    config_value_t *values;
    size_t count;
};

static void
s_read(config_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        const char *env = getenv(self->values[i].entry->name);
        free(self->values[i].value);
        self->values[i].value = strdup(env ? env : self->values[i].entry->dflt);
    }
}

config_t *
config_new(const char *service, const config_entry_t *table)
{
    config_t *self = calloc(1, sizeof *self);
    size_t n = 0;
    for (const config_entry_t *e = s_common; e->name; e++)
        n++;
    for (const config_entry_t *e = table; e && e->name; e++)
        n++;
    self->service = strdup(service);
    self->values = calloc(n, sizeof *self->values);
    for (const config_entry_t *e = s_common; e->name; e++)
        self->values[self->count++].entry = e;
    for (const config_entry_t *e = table; e && e->name; e++)
        self->values[self->count++].entry = e;
    s_read(self);
    return self;
}

void
config_destroy(config_t **self_p)
{
    config_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free(self->values[i].value);
    free(self->values);
    free(self->service);
    free(self);
    *self_p = NULL;
}

int
config_reload(config_t *self)
{
    s_read(self);
    return 0;
}

const char *
config_get(const config_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->values[i].entry->name, name) == 0)
            return self->values[i].value;
    log_error("config lookup of undeclared variable %s", name);
    return "";
}

long
config_get_int(const config_t *self, const char *name, long fallback)
{
    const char *text = config_get(self, name);
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end) {
        log_error("config %s=\"%s\" is not an integer; using %ld", name, text, fallback);
        return fallback;
    }
    return v;
}

void
config_mask(const char *value, bool secret, char *out, size_t outlen)
{
    if (secret) {
        snprintf(out, outlen, "%s", *value ? "****" : "");
        return;
    }
    /* scheme://user:password@host -> scheme://user:****@host */
    const char *scheme = strstr(value, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t) (at - scheme - 3)) : NULL;
    if (colon) {
        snprintf(out, outlen, "%.*s:****%s", (int) (colon - value), value, at);
        return;
    }
    /* key=value conninfo: password=xxx */
    const char *pw = strstr(value, "password=");
    if (pw) {
        const char *end = pw + 9;
        while (*end && *end != ' ')
            end++;
        snprintf(out, outlen, "%.*spassword=****%s", (int) (pw - value), value, end);
        return;
    }
    snprintf(out, outlen, "%s", value);
}

void
config_print(const config_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        char shown[1024];
        config_mask(self->values[i].value, self->values[i].entry->secret, shown, sizeof shown);
        log_info("config %s=%s", self->values[i].entry->name, shown);
    }
}
