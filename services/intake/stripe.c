/*  stripe: Stripe events -> intake items (see stripe.h). */
#include "stripe.h"
#include "webhook.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/*  A string member, or NULL (absent, null, not a string). */
static const char *
s_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/*  An id member that Stripe may expand into an object ({"id": ...}). */
static const char *
s_ref(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_object(v))
        return s_str(v, "id");
    return NULL;
}

static bool
s_int(const json_t *obj, const char *key, json_int_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

static void
s_set_str(json_t *item, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(item, key, json_string(value));
}

static void
s_set_date(json_t *item, const char *key, json_int_t unix_seconds)
{
    char d[11];
    intake_unix_date((int64_t) unix_seconds, d);
    json_object_set_new(item, key, json_string(d));
}

static json_t *
s_money(json_int_t minor, const char *currency)
{
    char cur[8] = "";
    if (currency) {
        snprintf(cur, sizeof cur, "%s", currency);
        for (char *p = cur; *p; p++)
            *p = (char) toupper((unsigned char) *p);
    }
    return json_pack("{s:I, s:s}", "minor", (json_int_t) minor, "currency", cur);
}

/*  A timestamp inside status_transitions, else the event's own. */
static json_int_t
s_transition(const json_t *obj, const char *key, json_int_t fallback)
{
    json_int_t t;
    const json_t *st = json_object_get(obj, "status_transitions");
    return st && s_int(st, key, &t) ? t : fallback;
}

static json_t *
s_item(const char *type)
{
    return json_pack("{s:s}", "type", type);
}

static stripe_verdict_t
s_ignore(stripe_mapped_t *out, const char *key, const char *reason)
{
    out->ignored_key = key;
    out->reason = reason;
    return STRIPE_IGNORED;
}

static stripe_verdict_t
s_customer(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    json_t *it = s_item("debtor");
    const char *id = s_str(o, "id");
    s_set_str(it, "external_id", id);
    const char *name = s_str(o, "name");
    if (!name || !*name)
        name = s_str(o, "email");
    if (!name || !*name)
        name = id;                  /* Stripe requires no name; ours does */
    s_set_str(it, "legal_name", name);
    s_set_str(it, "email", s_str(o, "email"));
    s_set_str(it, "phone", s_str(o, "phone"));
    const json_t *addr = json_object_get(o, "address");
    if (json_is_object(addr)) {
        json_t *a = json_object();
        s_set_str(a, "line1", s_str(addr, "line1"));
        s_set_str(a, "line2", s_str(addr, "line2"));
        s_set_str(a, "postal_code", s_str(addr, "postal_code"));
        s_set_str(a, "city", s_str(addr, "city"));
        s_set_str(a, "country", s_str(addr, "country"));
        s_set_str(it, "country", s_str(addr, "country"));
        json_object_set_new(it, "address", a);
    }
    /* "fr-FR" -> "fr": reminders pick templates by language. */
    const json_t *locales = json_object_get(o, "preferred_locales");
    const char *locale = json_is_array(locales) ? json_string_value(json_array_get(locales, 0)) : NULL;
    if (locale) {
        char lang[16];
        size_t k = 0;
        for (; locale[k] && locale[k] != '-' && locale[k] != '_' && k < sizeof lang - 1; k++)
            lang[k] = (char) tolower((unsigned char) locale[k]);
        lang[k] = 0;
        s_set_str(it, "language", lang);
    }
    /* tax_ids is only there when the sender expanded it. */
    const json_t *tax = json_object_get(o, "tax_ids");
    const json_t *data = json_is_object(tax) ? json_object_get(tax, "data") : NULL;
    const json_t *first = json_is_array(data) ? json_array_get(data, 0) : NULL;
    if (first && s_str(first, "value")) {
        s_set_str(it, "company_id", s_str(first, "value"));
        json_object_set_new(it, "kind", json_string("BUSINESS"));
    }
    out->item = it;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_invoice_finalized(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    json_t *it = s_item("invoice");
    const char *id = s_str(o, "id");
    s_set_str(it, "external_id", id);
    s_set_str(it, "debtor_external_id", s_ref(o, "customer"));
    const char *number = s_str(o, "number");
    s_set_str(it, "number", number && *number ? number : id);
    json_int_t issued = created, due;
    s_int(o, "created", &issued);
    if (!s_int(o, "due_date", &due))
        due = issued;               /* charged automatically: due at once */
    s_set_date(it, "issue_date", issued);
    s_set_date(it, "due_date", due);
    json_int_t terms = (due / 86400) - (issued / 86400);
    json_object_set_new(it, "terms_days", json_integer(terms > 0 ? terms : 0));
    json_int_t amount = 0;
    s_int(o, "amount_due", &amount);
    json_object_set_new(it, "amount", s_money(amount, s_str(o, "currency")));
    out->item = it;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_invoice_voided(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *id = s_str(o, "id");
    char ext[300];
    snprintf(ext, sizeof ext, "%s:voided", id ? id : "");
    json_t *it = s_item("invoice_cancellation");
    s_set_str(it, "external_id", ext);
    s_set_str(it, "invoice_external_id", id);
    s_set_str(it, "reason", "voided in Stripe");
    s_set_date(it, "cancelled_date", s_transition(o, "voided_at", created));
    out->item = it;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_invoice_uncollectible(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *id = s_str(o, "id");
    char ext[300];
    snprintf(ext, sizeof ext, "%s:uncollectible", id ? id : "");
    json_t *it = s_item("write_off");
    s_set_str(it, "external_id", ext);
    s_set_str(it, "invoice_external_id", id);
    s_set_str(it, "reason", "marked uncollectible in Stripe");
    s_set_date(it, "date", s_transition(o, "marked_uncollectible_at", created));
    out->item = it;
    return STRIPE_ITEM;
}

/*  A payment of one invoice, whichever event told us. */
static stripe_verdict_t
s_payment(stripe_mapped_t *out, const char *external_id, const char *customer, const char *invoice,
          json_int_t amount, const char *currency, json_int_t when, const char *method)
{
    if (!invoice)
        return s_ignore(out, "no_invoice", "payment not tied to an invoice");
    if (amount <= 0)
        return s_ignore(out, "nothing_paid", "nothing paid (zero amount)");
    json_t *it = s_item("payment");
    s_set_str(it, "external_id", external_id);
    s_set_str(it, "debtor_external_id", customer);
    s_set_date(it, "received_date", when);
    json_object_set_new(it, "amount", s_money(amount, currency));
    s_set_str(it, "method", method);
    json_object_set_new(it, "invoice_external_ids", json_pack("[s]", invoice));
    out->item = it;
    out->is_payment = true;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_invoice_paid(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *id = s_str(o, "id");
    const char *ext = s_ref(o, "payment_intent");
    if (!ext)
        ext = s_ref(o, "charge");
    char own[300];
    if (!ext) {
        /* Newer API versions list payments elsewhere; paid out of band. */
        snprintf(own, sizeof own, "%s:paid", id ? id : "");
        ext = own;
    }
    json_int_t amount = 0;
    s_int(o, "amount_paid", &amount);
    return s_payment(out, ext, s_ref(o, "customer"), id, amount, s_str(o, "currency"),
                     s_transition(o, "paid_at", created), "stripe");
}

static stripe_verdict_t
s_charge_succeeded(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *ext = s_ref(o, "payment_intent");
    if (!ext)
        ext = s_str(o, "id");
    json_int_t amount = 0, when = created;
    if (!s_int(o, "amount_captured", &amount))
        s_int(o, "amount", &amount);
    s_int(o, "created", &when);
    const json_t *pmd = json_object_get(o, "payment_method_details");
    const char *method = json_is_object(pmd) ? s_str(pmd, "type") : NULL;
    return s_payment(out, ext, s_ref(o, "customer"), s_ref(o, "invoice"), amount,
                     s_str(o, "currency"), when, method ? method : "card");
}

static stripe_verdict_t
s_intent_succeeded(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    json_int_t amount = 0, when = created;
    s_int(o, "amount_received", &amount);
    s_int(o, "created", &when);
    return s_payment(out, s_str(o, "id"), s_ref(o, "customer"), s_ref(o, "invoice"), amount,
                     s_str(o, "currency"), when, "stripe");
}

/*  One Stripe refund as a partial reversal of its payment, keyed by the
    refund's id: whichever event tells it (refund.created, refund.updated,
    charge.refund.updated, or charge.refunded listing the charge's refunds)
    the item is the same, so the first records it and the others are
    duplicates of it. Only a succeeded refund has given money back; NULL
    for the others, with *why set. `charge` fills in what a refund listed
    inside its charge may leave out. */
static json_t *
s_refund_item(const json_t *refund, const json_t *charge, const char **why)
{
    const char *status = s_str(refund, "status");
    if (status && strcmp(status, "succeeded") != 0) {
        *why = strcmp(status, "pending") == 0 || strcmp(status, "requires_action") == 0
             ? "refund_pending" : "refund_not_succeeded";
        return NULL;
    }
    const char *id = s_str(refund, "id");
    json_int_t amount = 0, when = 0;
    if (!id || !*id || !s_int(refund, "amount", &amount) || amount <= 0) {
        *why = "refund_unreadable";
        return NULL;
    }
    /* The refund's own references first, so that the item is the same
       whether the refund came alone or inside its charge. */
    const char *payment = s_ref(refund, "payment_intent");
    if (!payment)
        payment = s_ref(refund, "charge");
    if (!payment && charge)
        payment = s_ref(charge, "payment_intent");
    if (!payment && charge)
        payment = s_str(charge, "id");
    const char *currency = s_str(refund, "currency");
    if (!currency && charge)
        currency = s_str(charge, "currency");
    s_int(refund, "created", &when);
    json_t *it = s_item("payment_reversal");
    s_set_str(it, "external_id", id);
    s_set_str(it, "payment_external_id", payment);
    s_set_date(it, "reversed_date", when);
    json_object_set_new(it, "amount", s_money(amount, currency));
    s_set_str(it, "reason", "refunded in Stripe");
    return it;
}

static stripe_verdict_t
s_charge_refunded(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    /* Stripe sends charge.refunded again at each refund of the charge, with
       the cumulative amount_refunded. The charge's refunds list (included
       by API versions before 2022-11-15, or expanded as data.object.refunds
       on the endpoint) names each refund: every one becomes its own item,
       so the refunds told before come back as duplicates and each is
       applied once. */
    const json_t *refunds = json_object_get(o, "refunds");
    const json_t *list = json_is_object(refunds) ? json_object_get(refunds, "data") : NULL;
    if (json_is_array(list) && json_array_size(list) > 0) {
        json_t *items = json_array();
        size_t i;
        const json_t *r;
        const char *why = NULL;
        json_array_foreach(list, i, r) {
            json_t *it = json_is_object(r) ? s_refund_item(r, o, &why) : NULL;
            if (it)
                json_array_append_new(items, it);
        }
        if (json_array_size(items) == 0) {
            json_decref(items);
            return s_ignore(out, "refund_not_succeeded", "no succeeded refund in the charge's list");
        }
        out->item = items;
        return STRIPE_ITEM;
    }
    /* No list. Refunded in full: the rest of the payment is reversed (a
       whole reversal takes what earlier partial refunds left, so it agrees
       with refunds recorded from refund.created). A partial refund without
       its refund's id cannot be told from a redelivery by the cumulative
       amount alone: it is recorded from refund.created or
       charge.refund.updated, which carry the refund itself. */
    if (!json_is_true(json_object_get(o, "refunded")))
        return s_ignore(out, "partial_refund",
                        "partial refund without the charge's refunds list: recorded from the "
                        "refund's own event (refund.created, charge.refund.updated)");
    const char *id = s_str(o, "id");
    const char *payment = s_ref(o, "payment_intent");
    char ext[300];
    snprintf(ext, sizeof ext, "%s:refund", id ? id : "");
    json_t *it = s_item("payment_reversal");
    s_set_str(it, "external_id", ext);
    s_set_str(it, "payment_external_id", payment ? payment : id);
    s_set_date(it, "reversed_date", created);
    s_set_str(it, "reason", "refunded in Stripe");
    out->item = it;
    return STRIPE_ITEM;
}

/*  refund.created, refund.updated, charge.refund.updated: the Refund
    object itself. */
static stripe_verdict_t
s_refund(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *why = NULL;
    json_t *it = s_refund_item(o, NULL, &why);
    if (!it)
        return s_ignore(out, why,
                        strcmp(why, "refund_pending") == 0
                        ? "refund not succeeded yet: recorded when Stripe tells it succeeded"
                        : strcmp(why, "refund_unreadable") == 0
                        ? "refund without an id or a positive amount"
                        : "refund failed or canceled: no money went back");
    out->item = it;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_dispute_created(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    const char *payment = s_ref(o, "payment_intent");
    if (!payment)
        payment = s_ref(o, "charge");
    snprintf(out->lookup_payment, sizeof out->lookup_payment, "%s", payment ? payment : "");
    json_t *it = s_item("dispute");
    s_set_str(it, "external_id", s_str(o, "id"));
    json_int_t amount = 0, when = created;
    s_int(o, "amount", &amount);
    s_int(o, "created", &when);
    json_object_set_new(it, "amount", s_money(amount, s_str(o, "currency")));
    s_set_str(it, "reason", s_str(o, "reason"));
    s_set_date(it, "opened_date", when);
    out->item = it;
    return STRIPE_ITEM;
}

static stripe_verdict_t
s_dispute_closed(const json_t *o, json_int_t created, stripe_mapped_t *out)
{
    /* Stripe's view is the merchant's: "won" means the debtor's dispute
       was rejected, "lost" that it was upheld. */
    const char *status = s_str(o, "status");
    const char *outcome = status && strcmp(status, "won") == 0 ? "rejected"
                        : status && strcmp(status, "lost") == 0 ? "upheld" : "settled";
    json_t *it = s_item("dispute");
    s_set_str(it, "external_id", s_str(o, "id"));
    json_object_set_new(it, "resolve", json_true());
    s_set_str(it, "outcome", outcome);
    s_set_date(it, "resolved_date", created);
    out->item = it;
    return STRIPE_ITEM;
}

typedef stripe_verdict_t (stripe_map_fn)(const json_t *obj, json_int_t created, stripe_mapped_t *out);

static const struct {
    const char *type;
    stripe_map_fn *fn;
} s_events[] = {
    { "customer.created",              s_customer },
    { "customer.updated",              s_customer },
    { "invoice.finalized",             s_invoice_finalized },
    { "invoice.voided",                s_invoice_voided },
    { "invoice.marked_uncollectible",  s_invoice_uncollectible },
    { "invoice.paid",                  s_invoice_paid },
    { "charge.succeeded",              s_charge_succeeded },
    { "payment_intent.succeeded",      s_intent_succeeded },
    { "charge.refunded",               s_charge_refunded },
    { "charge.refund.updated",         s_refund },
    { "refund.created",                s_refund },
    { "refund.updated",                s_refund },
    { "charge.dispute.created",        s_dispute_created },
    { "charge.dispute.closed",         s_dispute_closed },
};

stripe_verdict_t
intake_stripe_map(const json_t *event, stripe_mapped_t *out, intake_error_t *err)
{
    memset(out, 0, sizeof *out);
    const char *id = s_str(event, "id"), *type = s_str(event, "type");
    if (!id || !*id)
        return intake_fail(err, "bad_json", "id", "missing: the Stripe event id"), STRIPE_BAD;
    if (!type || !*type)
        return intake_fail(err, "bad_json", "type", "missing: the Stripe event type"), STRIPE_BAD;
    for (size_t i = 0; i < sizeof s_events / sizeof s_events[0]; i++) {
        if (strcmp(s_events[i].type, type) != 0)
            continue;
        const json_t *data = json_object_get(event, "data");
        const json_t *obj = json_is_object(data) ? json_object_get(data, "object") : NULL;
        if (!json_is_object(obj))
            return intake_fail(err, "bad_json", "data.object", "missing: the event's object"),
                   STRIPE_BAD;
        json_int_t created = 0;
        s_int(event, "created", &created);
        return s_events[i].fn(obj, created, out);
    }
    return s_ignore(out, "unknown_type", "event type not used by Créance");
}

void
intake_stripe_mapped_clear(stripe_mapped_t *m)
{
    json_decref(m->item);
    m->item = NULL;
}
