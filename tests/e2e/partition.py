"""The partition function of common/partition.h, for tests and feed senders.

FNV-1a, 32 bits, over the UTF-8 bytes of tenant, 0x1F, key; the partition
is the hash mod N. Intake routes by the debtor's external id, risk by the
debtor's Créance id in decimal. Same vectors as tests/unit/test_partition.c.
"""

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619

VECTORS = (  # (tenant, key, hash)
    ("acme", "D-0001", 513613088),
    ("acme", "42", 1712314554),
    ("t-0001", "DEB-17", 3784410120),
    ("caf\u00e9", "\u00e9l\u00e8ve-9", 3331340326),
)


def fnv1a32(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFF
    return h


def partition_hash(tenant, key):
    return fnv1a32(tenant.encode() + b"\x1f" + str(key).encode())


def partition_of(tenant, key, n):
    return 0 if n <= 1 else partition_hash(tenant, key) % n
