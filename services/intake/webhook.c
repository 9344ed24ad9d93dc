/*  webhook: signatures, timestamps and JSON items of intake's HTTP inputs. */
#include "webhook.h"
#include "dates.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- signatures */

static void
s_hmac(const char *secret, const char *ts, const char *body, size_t len, uint8_t out[32])
{
    /* "<ts>.<body>" signed in one go: the body is at most a few MiB. */
    size_t tlen = strlen(ts);
    uint8_t *msg = malloc(tlen + 1 + len + 1);
    memcpy(msg, ts, tlen);
    msg[tlen] = '.';
    if (len)
        memcpy(msg + tlen + 1, body, len);
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), secret, (int) strlen(secret), msg, tlen + 1 + len, out, &outlen);
    free(msg);
}

void
intake_webhook_sign(const char *secret, const char *ts, const char *body, size_t len, char out[65])
{
    uint8_t mac[32];
    s_hmac(secret, ts, body, len, mac);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", mac[i]);
    out[64] = 0;
}

static int
s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) tolower((unsigned char) c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*  64 hex digits into 32 bytes. */
static bool
s_unhex(const char *s, size_t len, uint8_t out[32])
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < 32; i++) {
        int hi = s_hexval(s[2 * i]), lo = s_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t) (hi << 4 | lo);
    }
    return true;
}

bool
intake_webhook_parse_sig(const char *header, const char *field, intake_sig_t *sig,
                         intake_error_t *err)
{
    memset(sig, 0, sizeof *sig);
    if (!header || !*header)
        return intake_fail(err, "bad_signature", field, "missing");
    /* Comma-separated key=value pairs; whitespace around them is allowed. */
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        const char *eq = memchr(start, '=', (size_t) (end - start));
        if (!eq)
            continue;
        size_t klen = (size_t) (eq - start), vlen = (size_t) (end - eq - 1);
        if (klen == 1 && start[0] == 't' && vlen < sizeof sig->t) {
            memcpy(sig->t, eq + 1, vlen);
            sig->t[vlen] = 0;
        }
        else if (klen == 2 && start[0] == 'v' && start[1] == '1' && sig->n < INTAKE_SIG_MAX
                 && s_unhex(eq + 1, vlen, sig->v1[sig->n]))
            sig->n++;
    }
    if (sig->n == 0)
        return intake_fail(err, "bad_signature", field,
                           "no v1=<64 hex digits> signature in the header");
    return true;
}

bool
intake_webhook_check_ts(const char *ts, int64_t now, const char *field, intake_error_t *err)
{
    if (!ts || !*ts)
        return intake_fail(err, "bad_timestamp", field, "missing");
    size_t len = strlen(ts);
    if (len > 12)
        return intake_fail(err, "bad_timestamp", field, "not unix seconds (too long)");
    for (size_t i = 0; i < len; i++)
        if (ts[i] < '0' || ts[i] > '9')
            return intake_fail(err, "bad_timestamp", field, "not unix seconds (digits only)");
    int64_t t = strtoll(ts, NULL, 10);
    int64_t skew = now - t;
    if (skew > INTAKE_WEBHOOK_TOLERANCE)
        return intake_fail(err, "stale_timestamp", field,
                           "%" PRId64 " seconds old, the limit is %d: sign the request again",
                           skew, INTAKE_WEBHOOK_TOLERANCE);
    if (-skew > INTAKE_WEBHOOK_TOLERANCE)
        return intake_fail(err, "stale_timestamp", field,
                           "%" PRId64 " seconds in the future, the limit is %d: check the sender's clock",
                           -skew, INTAKE_WEBHOOK_TOLERANCE);
    return true;
}

bool
intake_webhook_verify(const char *const *secrets, size_t nsecrets, const char *ts,
                      const char *body, size_t len, const intake_sig_t *sig)
{
    bool ok = false;
    for (size_t i = 0; i < nsecrets; i++) {
        uint8_t mac[32];
        s_hmac(secrets[i], ts, body, len, mac);
        /* Every pair is compared, match or not: the time taken says
           nothing about which digest came close. */
        for (size_t k = 0; k < sig->n; k++)
            ok |= CRYPTO_memcmp(mac, sig->v1[k], 32) == 0;
    }
    return ok;
}

/* -------------------------------------------------------- JSON -> protobuf */

/*  Everything a conversion allocates, freed at once: the message is built
    here, packed, and unpacked into one that protobuf-c owns. */
typedef struct {
    void **p;
    size_t n, cap;
} arena_t;

static void *
s_alloc(arena_t *a, size_t size)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->p = realloc(a->p, a->cap * sizeof *a->p);
    }
    return a->p[a->n++] = calloc(1, size ? size : 1);
}

static void
s_arena_free(arena_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    free(a->p);
}

static bool s_fill_message(arena_t *a, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *msg,
                           const json_t *obj, const char *path, const char *skip, intake_error_t *err);

static void
s_path(char *out, size_t len, const char *path, const char *name)
{
    snprintf(out, len, "%s%s%s", path, *path ? "." : "", name);
}

static bool
s_fill_value(arena_t *a, const ProtobufCFieldDescriptor *f, void *slot, const json_t *v,
             const char *path, intake_error_t *err)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v))
            return intake_fail(err, "bad_json", path, "expected a string");
        size_t len = json_string_length(v);
        char *s = s_alloc(a, len + 1);
        memcpy(s, json_string_value(v), len);
        *(char **) slot = s;
        return true;
    }
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        if (!json_is_integer(v))
            return intake_fail(err, "bad_json", path, "expected an integer");
        json_int_t x = json_integer_value(v);
        if (x < INT32_MIN || x > INT32_MAX)
            return intake_fail(err, "bad_json", path, "out of range");
        *(int32_t *) slot = (int32_t) x;
        return true;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        /* Money is minor units: an integer, never a JSON fraction. */
        if (!json_is_integer(v))
            return intake_fail(err, "bad_json", path, "expected an integer (minor units for money)");
        *(int64_t *) slot = (int64_t) json_integer_value(v);
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return intake_fail(err, "bad_json", path, "expected true or false");
        *(protobuf_c_boolean *) slot = json_is_true(v);
        return true;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_is_integer(v)) {
            const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, (int) json_integer_value(v));
            if (!ev)
                return intake_fail(err, "bad_value", path, "unknown value %lld",
                                   (long long) json_integer_value(v));
            *(int *) slot = ev->value;
            return true;
        }
        if (!json_is_string(v))
            return intake_fail(err, "bad_json", path, "expected a name such as \"%s\"",
                               ed->n_values > 1 ? ed->values[1].name : ed->values[0].name);
        char name[64];
        snprintf(name, sizeof name, "%s", json_string_value(v));
        for (char *p = name; *p; p++)
            *p = (char) toupper((unsigned char) *p);
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
        if (!ev || ev->value == 0)
            return intake_fail(err, "bad_value", path, "unknown value (for example \"%s\")",
                               ed->n_values > 1 ? ed->values[1].name : ed->values[0].name);
        *(int *) slot = ev->value;
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = f->descriptor;
        ProtobufCMessage *sub = s_alloc(a, md->sizeof_message);
        md->message_init(sub);
        if (md == &creance__date__descriptor) {
            int32_t days;
            if (!json_is_string(v) || !date_parse(json_string_value(v), &days))
                return intake_fail(err, "bad_date", path, "expected a date \"YYYY-MM-DD\"");
            date_to_pb(days, (Creance__Date *) sub);
        }
        else {
            if (!json_is_object(v))
                return intake_fail(err, "bad_json", path, "expected an object");
            if (!s_fill_message(a, md, sub, v, path, NULL, err))
                return false;
        }
        *(ProtobufCMessage **) slot = sub;
        return true;
    }
    default:
        return intake_fail(err, "bad_json", path, "field type not accepted in JSON");
    }
}

static size_t
s_slot_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    default:
        return sizeof(void *);
    }
}

#define MAX_REPEATED 10000

static bool
s_fill_message(arena_t *a, const ProtobufCMessageDescriptor *desc, ProtobufCMessage *msg,
               const json_t *obj, const char *path, const char *skip, intake_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) obj, key, v) {
        char sub[96];
        s_path(sub, sizeof sub, path, key);
        if (skip && strcmp(key, skip) == 0)
            continue;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
        if (!f && !*key)
            return intake_fail(err, "unknown_field", *path ? path : "item",
                               "empty key in %s", desc->short_name);
        if (!f)
            return intake_fail(err, "unknown_field", sub, "unknown field of %s", desc->short_name);
        if (json_is_null(v))
            continue;                   /* absent */
        char *base = (char *) msg;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!json_is_array(v))
                return intake_fail(err, "bad_json", sub, "expected an array");
            size_t n = json_array_size(v);
            if (n > MAX_REPEATED)
                return intake_fail(err, "too_many_items", sub, "%zu elements, the limit is %d",
                                   n, MAX_REPEATED);
            size_t size = s_slot_size(f);
            char *arr = s_alloc(a, n * size);
            for (size_t i = 0; i < n; i++) {
                char elem[112];
                snprintf(elem, sizeof elem, "%s[%zu]", sub, i);
                if (!s_fill_value(a, f, arr + i * size, json_array_get(v, i), elem, err))
                    return false;
            }
            *(size_t *) (base + f->quantifier_offset) = n;
            *(void **) (base + f->offset) = arr;
            continue;
        }
        if (!s_fill_value(a, f, base + f->offset, v, sub, err))
            return false;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            *(uint32_t *) (base + f->quantifier_offset) = f->id;
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
            *(protobuf_c_boolean *) (base + f->quantifier_offset) = 1;
    }
    return true;
}

/*  Builds item (arena-owned) from obj; false with err. */
static bool
s_build_item(arena_t *a, const json_t *obj, Creance__IntakeItem *item, intake_error_t *err)
{
    if (!json_is_object(obj))
        return intake_fail(err, "bad_json", "item", "expected an object");
    const json_t *type = json_object_get(obj, "type");
    if (!json_is_string(type))
        return intake_fail(err, "missing_field", "type",
                           "missing: the kind of fact (debtor, invoice, payment, ...)");
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(&creance__intake_item__descriptor,
                                                        json_string_value(type));
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        char name[40];
        snprintf(name, sizeof name, "%s", json_string_value(type));
        size_t bad;
        if (!intake_utf8_valid(name, strlen(name), &bad))
            name[bad] = 0;
        return intake_fail(err, "bad_value", "type",
                           "unknown type '%s' (debtor, invoice, payment, dispute, invoice_adjustment, "
                           "invoice_cancellation, credit_note, payment_reversal, write_off, "
                           "payment_plan, promise)", name);
    }
    const ProtobufCMessageDescriptor *md = f->descriptor;
    ProtobufCMessage *fact = s_alloc(a, md->sizeof_message);
    md->message_init(fact);
    if (!s_fill_message(a, md, fact, obj, "", "type", err))
        return false;
    *(ProtobufCMessage **) ((char *) item + f->offset) = fact;
    *(uint32_t *) ((char *) item + f->quantifier_offset) = f->id;
    return true;
}

bool
intake_json_item(const json_t *obj, Creance__IntakeItem **item, intake_error_t *err)
{
    arena_t a = { 0 };
    Creance__IntakeItem *built = s_alloc(&a, sizeof *built);
    creance__intake_item__init(built);
    *item = NULL;
    bool ok = s_build_item(&a, obj, built, err);
    if (ok) {
        size_t size = creance__intake_item__get_packed_size(built);
        uint8_t *buf = malloc(size ? size : 1);
        creance__intake_item__pack(built, buf);
        *item = creance__intake_item__unpack(NULL, size, buf);
        free(buf);
        ok = *item != NULL;
        if (!ok)
            intake_fail(err, "bad_json", "item", "cannot be encoded");
    }
    s_arena_free(&a);
    return ok;
}

static bool
s_opt_string(const json_t *root, const char *key, const char **out, intake_error_t *err)
{
    const json_t *v = json_object_get(root, key);
    *out = "";
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return intake_fail(err, "bad_json", key, "expected a string");
    *out = json_string_value(v);
    return true;
}

Creance__IntakeBatch *
intake_json_batch(const json_t *root, const char *tenant, intake_error_t **item_errs,
                  intake_error_t *err)
{
    *item_errs = NULL;
    if (!json_is_object(root)) {
        intake_fail(err, "bad_json", "body", "expected a JSON object with source and items");
        return NULL;
    }
    const char *source, *batch_id;
    if (!s_opt_string(root, "source", &source, err) || !s_opt_string(root, "batch_id", &batch_id, err))
        return NULL;
    if (!*source) {
        intake_fail(err, "missing_field", "source",
                    "missing: the sending system's name (part of the idempotency key)");
        return NULL;
    }
    const json_t *items = json_object_get(root, "items");
    if (!json_is_array(items)) {
        intake_fail(err, "missing_field", "items", "missing: an array of items");
        return NULL;
    }
    const json_t *whole = json_object_get(root, "all_or_nothing");
    if (whole && !json_is_boolean(whole)) {
        intake_fail(err, "bad_json", "all_or_nothing", "expected true or false");
        return NULL;
    }
    size_t n = json_array_size(items);
    arena_t a = { 0 };
    Creance__IntakeBatch *b = s_alloc(&a, sizeof *b);
    creance__intake_batch__init(b);
    b->tenant = (char *) tenant;
    b->source = (char *) source;
    b->batch_id = (char *) batch_id;
    b->all_or_nothing = whole && json_is_true(whole);
    b->n_items = n;
    b->items = s_alloc(&a, n * sizeof *b->items);
    *item_errs = calloc(n ? n : 1, sizeof **item_errs);
    for (size_t i = 0; i < n; i++) {
        b->items[i] = s_alloc(&a, sizeof *b->items[i]);
        creance__intake_item__init(b->items[i]);
        intake_error_t e;
        if (!s_build_item(&a, json_array_get(items, i), b->items[i], &e)) {
            /* Left empty: the item is answered with this error. */
            creance__intake_item__init(b->items[i]);
            (*item_errs)[i] = e;
        }
    }
    size_t size = creance__intake_batch__get_packed_size(b);
    uint8_t *buf = malloc(size ? size : 1);
    creance__intake_batch__pack(b, buf);
    Creance__IntakeBatch *out = creance__intake_batch__unpack(NULL, size, buf);
    free(buf);
    s_arena_free(&a);
    if (!out) {
        free(*item_errs);
        *item_errs = NULL;
        intake_fail(err, "bad_json", "body", "cannot be encoded as a batch");
    }
    return out;
}

json_t *
intake_json_results(const Creance__ItemResult *results, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const Creance__ItemResult *r = &results[i];
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(r->index));
        switch (r->status) {
        case CREANCE__ITEM_STATUS__ACCEPTED:
            json_object_set_new(o, "status", json_string("accepted"));
            json_object_set_new(o, "id", json_integer(r->id));
            break;
        case CREANCE__ITEM_STATUS__DUPLICATE:
            json_object_set_new(o, "status", json_string("duplicate"));
            json_object_set_new(o, "id", json_integer(r->id));
            break;
        default:
            json_object_set_new(o, "status", json_string("rejected"));
            json_object_set_new(o, "field", json_string(r->field ? r->field : ""));
            json_object_set_new(o, "reason", json_string(r->reason ? r->reason : ""));
            break;
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

void
intake_unix_date(int64_t seconds, char out[11])
{
    int64_t days = seconds / 86400;
    if (seconds < 0 && seconds % 86400)
        days--;
    date_format((int32_t) days, out);
}
