/*  config: effective configuration from CREANCE_* environment variables.
    Each service declares a table of entries (name, default, secret?, help);
    the common entries every service needs are added by config_new. Defaults
    work for the local stack. config_print logs the effective values with
    secrets masked (passwords inside URLs too). */
#ifndef CREANCE_CONFIG_H
#define CREANCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;       /* environment variable, e.g. "CREANCE_DB_URL" */
    const char *dflt;       /* default value, never NULL */
    bool secret;            /* masked when printed */
    const char *help;
} config_entry_t;

typedef struct config_t config_t;

/*  `table` ends with an entry whose name is NULL; may be NULL itself. */
config_t   *config_new(const char *service, const config_entry_t *table);
void        config_destroy(config_t **self_p);
/*  Re-reads the environment and CREANCE_CONFIG_FILE (SIGHUP). Returns how
    many values changed, or -1 when that file cannot be read (nothing
    changes then). A pointer config_get returned stays valid until
    config_destroy: a reload replaces values, it never frees them. */
int         config_reload(config_t *self);
const char *config_get(const config_t *self, const char *name);
/*  Parses an integer value; on a malformed value logs the variable and the
    reason and returns `fallback`. */
long        config_get_int(const config_t *self, const char *name, long fallback);
void        config_print(const config_t *self);
/*  Writes `value` with secrets masked into `out`: the whole value when the
    entry is secret, else only the password part of a URL. */
void        config_mask(const char *value, bool secret, char *out, size_t outlen);

#endif
