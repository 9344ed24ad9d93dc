/*  partition: which of N instances owns a debtor.

    One stable function, so that a billing system, the CLI, the feed
    simulator, the services and SQL (creance_partition() in
    deploy/sql/0080_partition.sql) all agree:

        h = FNV-1a, 32 bits, over the bytes  tenant 0x1F key
            (offset basis 2166136261, prime 16777619, arithmetic mod 2^32)
        partition = h mod N

    `key` is the debtor's external id for intake (what a sender knows) and
    the debtor's Créance id in decimal for risk (what ledger events carry).
    Either way one debtor maps to one instance, which is all that ordering
    needs. Vectors (tests/unit/test_partition.c, tests/e2e/partition.py):
        fnv1a32("")                       = 2166136261
        fnv1a32("a")                      = 3826002220
        fnv1a32("acme\x1fD-0001")         = 513613088 -> 0 of 2, 2 of 3
        fnv1a32("acme\x1f42")             = 1712314554 -> 0 of 2, 0 of 3
    Configuration values are "k/N" with 0 <= k < N <= PARTITION_MAX;
    "0/1" (the default) means everything. */
#ifndef CREANCE_PARTITION_H
#define CREANCE_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARTITION_MAX 1024

typedef struct {
    uint32_t index;                 /* k */
    uint32_t count;                 /* N */
} partition_t;

uint32_t partition_fnv1a32(const void *data, size_t len);
/*  FNV-1a of tenant 0x1F key. */
uint32_t partition_hash(const char *tenant, const char *key);
/*  hash mod count (count 0 is taken as 1). */
uint32_t partition_of(const char *tenant, const char *key, uint32_t count);
/*  The same with a Créance id as key, in decimal. */
uint32_t partition_of_id(const char *tenant, int64_t id, uint32_t count);

/*  Parses "k/N". On error returns false and writes the reason to `err`. */
bool partition_parse(const char *text, partition_t *out, char *err, size_t errlen);
/*  True when the partition takes everything (N = 1). */
bool partition_all(const partition_t *p);
bool partition_owns(const partition_t *p, const char *tenant, const char *key);
bool partition_owns_id(const partition_t *p, const char *tenant, int64_t id);

#endif
