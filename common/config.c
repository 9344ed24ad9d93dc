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
    /* A process's environment cannot change from outside: without a file,
       SIGHUP would re-read the same values. */
    { "CREANCE_CONFIG_FILE", "", false,
      "files of NAME=value lines (':' between paths, the later wins) read at start and on "
      "SIGHUP; they win over the environment (empty: none)" },
    { NULL, NULL, false, NULL }
};

#define CONFIG_FILE_MAX (256 * 1024)

typedef struct {
    const config_entry_t *entry;
    char *value;
} config_value_t;

struct config_t {
    char *service;
    config_value_t *values;
    size_t count;
    /* Values replaced by a reload. Services keep the pointers config_get
       gave them at start (reminders' SMTP settings, ...): freeing them on
       SIGHUP would leave those dangling. Freed with the config. */
    char **retired;
    size_t nretired;
};

/*  The value of `name` in the file's text (NAME=value lines, systemd
    EnvironmentFile style: blank lines and lines starting with # or ; are
    skipped, an optional "export " prefix, the value may be in matching
    single or double quotes, no escapes); a new string, or NULL when the
    file does not set it (the last line that sets it wins). */
static char *
s_file_value(const char *text, const char *name)
{
    char *found = NULL;
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        const char *p = line;
        line = eol ? eol + 1 : NULL;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p == '#' || *p == ';')
            continue;
        if ((size_t) (end - p) > 7 && strncmp(p, "export ", 7) == 0)
            p += 7;
        if ((size_t) (end - p) <= nlen || strncmp(p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        const char *v = p + nlen + 1;
        const char *ve = end;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
            ve--;
        if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
            v++;
            ve--;
        }
        free(found);
        found = strndup(v, (size_t) (ve - v));
    }
    return found;
}

/*  The whole file, or NULL with the reason logged. */
static char *
s_file_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("config CREANCE_CONFIG_FILE=%s cannot be read: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool bad = !text || ferror(f) || n > CONFIG_FILE_MAX;
    fclose(f);
    if (bad) {
        log_error("config CREANCE_CONFIG_FILE=%s cannot be read (error, or over %d bytes)", path,
                  CONFIG_FILE_MAX);
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

/*  The files of CREANCE_CONFIG_FILE, paths separated by ':' (like
    several systemd EnvironmentFile= lines: a later file wins, since the
    last assignment wins), one after the other; NULL when one cannot be
    read. */
static char *
s_files_read(const char *paths)
{
    char *all = strdup("");
    const char *p = paths;
    while (all && *p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t) (colon - p) : strlen(p);
        if (n) {
            char *path = strndup(p, n);
            char *text = path ? s_file_read(path) : NULL;
            free(path);
            size_t a = strlen(all), t = text ? strlen(text) : 0;
            char *both = text ? realloc(all, a + t + 2) : NULL;
            if (!both) {
                free(text);
                free(all);
                return NULL;
            }
            all = both;
            memcpy(all + a, text, t);
            all[a + t] = '\n';
            all[a + t + 1] = 0;
            free(text);
        }
        p += n + (colon ? 1 : 0);
    }
    return all;
}

/*  Environment, then the files on top; a default for what none sets.
    Returns how many values changed, or -1 when the file named by
    CREANCE_CONFIG_FILE cannot be read: nothing changes then (a reload
    keeps the running configuration rather than fall back to defaults). */
static int
s_read(config_t *self)
{
    const char *path = getenv("CREANCE_CONFIG_FILE");
    char *text = NULL;
    /* At start there is no running configuration to keep: the environment
       alone, the error logged. */
    if (path && *path && !(text = s_files_read(path)) && self->count && self->values[0].value)
        return -1;
    int changed = 0;
    for (size_t i = 0; i < self->count; i++) {
        const char *name = self->values[i].entry->name;
        char *value = text ? s_file_value(text, name) : NULL;
        if (!value) {
            const char *env = getenv(name);
            value = strdup(env ? env : self->values[i].entry->dflt);
        }
        char *old = self->values[i].value;
        if (old && strcmp(old, value) == 0) {
            free(value);        /* unchanged: the pointer handed out stays */
            continue;
        }
        if (old) {
            char **r = realloc(self->retired, (self->nretired + 1) * sizeof *r);
            if (!r) {
                free(value);
                continue;
            }
            self->retired = r;
            self->retired[self->nretired++] = old;
            changed++;
        }
        self->values[i].value = value;
    }
    free(text);
    return changed;
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
    for (size_t i = 0; i < self->nretired; i++)
        free(self->retired[i]);
    free(self->retired);
    free(self->values);
    free(self->service);
    free(self);
    *self_p = NULL;
}

int
config_reload(config_t *self)
{
    return s_read(self);
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
