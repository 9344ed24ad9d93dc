/*  debtor: one debtor's exposure and its Redis shape (pure). */
#include "debtor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
risk_tenant_valid(const char *tenant)
{
    if (!tenant || !tenant[0])
        return false;
    size_t n = 0;
    for (const char *p = tenant; *p; p++, n++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (n == 0 ? !alnum : !(alnum || c == '_' || c == '-'))
            return false;
        if (n >= 63)
            return false;
    }
    return true;
}

bool
risk_currency_valid(const char *currency)
{
    if (!currency)
        return false;
    for (int i = 0; i < 3; i++)
        if (currency[i] < 'A' || currency[i] > 'Z')
            return false;
    return currency[3] == 0;
}

int
risk_debtor_key(char *out, size_t outlen, const char *tenant, int64_t debtor_id)
{
    if (!risk_tenant_valid(tenant))
        return -1;
    /* The braces are a Redis Cluster hash tag: all of one debtor's keys
       land in one slot, so a later multi-key update of a debtor stays legal. */
    int n = snprintf(out, outlen, "creance:{%s:%" PRId64 "}:debtor", tenant, debtor_id);
    return n < 0 || (size_t) n >= outlen ? -1 : n;
}

void
risk_debtor_init(risk_debtor_t *self, const char *tenant, int64_t debtor_id)
{
    memset(self, 0, sizeof *self);
    snprintf(self->tenant, sizeof self->tenant, "%s", tenant ? tenant : "");
    self->debtor_id = debtor_id;
}

void
risk_debtor_clear(risk_debtor_t *self)
{
    free(self->amounts);
    self->amounts = NULL;
    free(self->snapshot);
    self->snapshot = NULL;
    self->count = self->cap = 0;
    self->open_invoices = 0;
    self->updated_at_us = 0;
}

int
risk_debtor_set_snapshot(risk_debtor_t *self, const char *text)
{
    char *copy = NULL;
    if (text && !(copy = strdup(text)))
        return -1;
    free(self->snapshot);
    self->snapshot = copy;
    return 0;
}

risk_debtor_t *
risk_debtor_new(const char *tenant, int64_t debtor_id)
{
    risk_debtor_t *self = malloc(sizeof *self);
    if (self)
        risk_debtor_init(self, tenant, debtor_id);
    return self;
}

void
risk_debtor_destroy(risk_debtor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    risk_debtor_clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

int
risk_debtor_set(risk_debtor_t *self, const char *currency, int64_t minor)
{
    if (!risk_currency_valid(currency))
        return -1;
    size_t i = 0;
    for (; i < self->count; i++) {
        int c = strcmp(self->amounts[i].currency, currency);
        if (c == 0) {
            self->amounts[i].outstanding_minor = minor;
            return 0;
        }
        if (c > 0)
            break;
    }
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 2;
        risk_amount_t *a = realloc(self->amounts, cap * sizeof *a);
        if (!a)
            return -1;
        self->amounts = a;
        self->cap = cap;
    }
    memmove(self->amounts + i + 1, self->amounts + i, (self->count - i) * sizeof *self->amounts);
    memcpy(self->amounts[i].currency, currency, 4);
    self->amounts[i].outstanding_minor = minor;
    self->count++;
    return 0;
}

const risk_amount_t *
risk_debtor_find(const risk_debtor_t *self, const char *currency)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->amounts[i].currency, currency) == 0)
            return &self->amounts[i];
    return NULL;
}

const risk_amount_t *
risk_debtor_main(const risk_debtor_t *self)
{
    const risk_amount_t *best = NULL;
    for (size_t i = 0; i < self->count; i++)
        if (!best || self->amounts[i].outstanding_minor > best->outstanding_minor)
            best = &self->amounts[i];
    return best;
}

bool
risk_parse_int64(const char *text, int64_t *out)
{
    if (!text || !*text)
        return false;
    const char *p = text;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;               /* no "+1", " 1", "-" */
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end)
        return false;
    *out = (int64_t) v;
    return true;
}

int
risk_debtor_parse_amounts(risk_debtor_t *self, const char *text)
{
    int64_t open = self->open_invoices, at = self->updated_at_us;
    char *snapshot = self->snapshot;
    self->snapshot = NULL;
    risk_debtor_clear(self);
    self->open_invoices = open;
    self->updated_at_us = at;
    self->snapshot = snapshot;
    const char *p = text ? text : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen(p);
        char item[48];
        if (len < 5 || len >= sizeof item || p[3] != '=')
            goto bad;
        memcpy(item, p, len);
        item[len] = 0;
        item[3] = 0;
        int64_t minor;
        if (!risk_parse_int64(item + 4, &minor) || risk_debtor_set(self, item, minor) != 0)
            goto bad;
        if (!comma)
            break;
        p = comma + 1;
        if (!*p)
            goto bad;               /* trailing comma */
    }
    return 0;
bad:
    risk_debtor_clear(self);
    return -1;
}

int
risk_debtor_from_hash(risk_debtor_t *self, size_t npairs,
                       const char *const *fields, const char *const *values)
{
    risk_debtor_clear(self);
    bool have_open = false, have_at = false;
    for (size_t i = 0; i < npairs; i++) {
        const char *f = fields[i], *v = values[i];
        int64_t n;
        if (!f || !v)
            goto bad;
        if (strncmp(f, "outstanding:", 12) == 0) {
            if (!risk_parse_int64(v, &n) || risk_debtor_set(self, f + 12, n) != 0)
                goto bad;
        }
        else if (strcmp(f, "open_invoices") == 0) {
            if (!risk_parse_int64(v, &n))
                goto bad;
            self->open_invoices = n;
            have_open = true;
        }
        else if (strcmp(f, "risk") == 0) {
            if (risk_debtor_set_snapshot(self, v) != 0)
                goto bad;
        }
        else if (strcmp(f, "updated_at_us") == 0) {
            if (!risk_parse_int64(v, &n))
                goto bad;
            self->updated_at_us = n;
            have_at = true;
        }
    }
    if (have_open && have_at && self->count > 0)
        return 1;
    risk_debtor_clear(self);
    return 0;
bad:
    risk_debtor_clear(self);
    return -1;
}
