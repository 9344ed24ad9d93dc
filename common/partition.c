/*  partition: FNV-1a 32 over "tenant\x1fkey", mod N. */
#include "partition.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME  16777619u

uint32_t
partition_fnv1a32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint32_t
partition_hash(const char *tenant, const char *key)
{
    /* Hashed in three steps rather than through a joined copy: no length
       limit, no allocation. FNV-1a is a byte stream, so the result is the
       same. */
    uint32_t h = FNV_OFFSET;
    const char *parts[] = { tenant ? tenant : "", "\x1f", key ? key : "" };
    for (int k = 0; k < 3; k++)
        for (const unsigned char *p = (const unsigned char *) parts[k]; *p; p++) {
            h ^= *p;
            h *= FNV_PRIME;
        }
    return h;
}

uint32_t
partition_of(const char *tenant, const char *key, uint32_t count)
{
    return count <= 1 ? 0 : partition_hash(tenant, key) % count;
}

uint32_t
partition_of_id(const char *tenant, int64_t id, uint32_t count)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, id);
    return partition_of(tenant, key, count);
}

/*  Strict unsigned decimal: digits only, no sign, no spaces, <= max. */
static bool
s_number(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    if (len == 0 || len > 5)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t) (s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool
partition_parse(const char *text, partition_t *out, char *err, size_t errlen)
{
    if (!text || !*text) {
        snprintf(err, errlen, "empty: expected k/N, e.g. 0/2");
        return false;
    }
    const char *slash = strchr(text, '/');
    if (!slash) {
        snprintf(err, errlen, "'%.32s' has no '/': expected k/N, e.g. 0/2", text);
        return false;
    }
    uint32_t k, n;
    if (!s_number(text, (size_t) (slash - text), PARTITION_MAX, &k)) {
        snprintf(err, errlen, "'%.32s': k must be a decimal number", text);
        return false;
    }
    if (!s_number(slash + 1, strlen(slash + 1), PARTITION_MAX, &n) || n == 0) {
        snprintf(err, errlen, "'%.32s': N must be a decimal number from 1 to %d", text, PARTITION_MAX);
        return false;
    }
    if (k >= n) {
        snprintf(err, errlen, "'%.32s': k must be below N (instances are numbered 0 to N-1)", text);
        return false;
    }
    out->index = k;
    out->count = n;
    return true;
}

bool
partition_all(const partition_t *p)
{
    return p->count <= 1;
}

bool
partition_owns(const partition_t *p, const char *tenant, const char *key)
{
    return partition_all(p) || partition_of(tenant, key, p->count) == p->index;
}

bool
partition_owns_id(const partition_t *p, const char *tenant, int64_t id)
{
    return partition_all(p) || partition_of_id(tenant, id, p->count) == p->index;
}
