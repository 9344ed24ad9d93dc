/*  stripe: Stripe webhook events mapped onto intake's facts (pure, no I/O).

    An event {"id": "evt_...", "type": "...", "created": <unix>,
    "data": {"object": {...}}} becomes one JSON item in the shape of
    webhook.h ("type": "invoice", ...), which then goes through the same
    conversion, validation and handlers as every other input. Source
    "stripe"; the external ids are Stripe's own:
      customer.created/updated  debtor       cus_...
      invoice.finalized         invoice      in_...
      invoice.voided            invoice_cancellation  in_...:voided
      invoice.marked_uncollectible  write_off  in_...:uncollectible
      invoice.paid, charge.succeeded, payment_intent.succeeded (with an
                                invoice)     payment  pi_... (else ch_...,
                                else in_...:paid); the three events of one
                                payment share the payment intent's id, so
                                they record one payment
      refund.created, refund.updated, charge.refund.updated (succeeded)
                                payment_reversal of the refund's amount
                                re_... (a partial reversal; pending, failed
                                and canceled refunds are ignored)
      charge.refunded           with the charge's refunds list: one such
                                item per succeeded refund (re_...; those
                                told before are duplicates); without it, in
                                full: payment_reversal of the rest
                                ch_...:refund; partial: ignored (the
                                refund's own event records it)
      charge.dispute.created    dispute      dp_... (the invoice is found
                                through the disputed payment, by the caller)
      charge.dispute.closed     dispute resolution  dp_... (won: rejected,
                                lost: upheld, else settled)
    Everything else is ignored (answered 200, Stripe would retry a non-2xx).
    Dates are the UTC day of Stripe's unix timestamps; currencies are
    upper-cased; amounts are already minor units. */
#ifndef INTAKE_STRIPE_H
#define INTAKE_STRIPE_H

#include <jansson.h>
#include "validate.h"

#define INTAKE_STRIPE_SOURCE "stripe"

typedef enum {
    STRIPE_ITEM,            /* item set */
    STRIPE_IGNORED,         /* reason set (static text) */
    STRIPE_BAD              /* err set: not a Stripe event we can read */
} stripe_verdict_t;

typedef struct {
    json_t *item;                   /* owned; the JSON item, or an array of
                                       items (a charge's refunds) */
    const char *reason;             /* when ignored */
    const char *ignored_key;        /* metric label when ignored */
    /* A dispute names a payment, not an invoice: the caller finds the
       invoice the payment paid and sets invoice_external_id. */
    char lookup_payment[256];
    /* A payment: the caller answers "duplicate" when this external id is
       already recorded (another event of the same payment). */
    bool is_payment;
} stripe_mapped_t;

stripe_verdict_t intake_stripe_map(const json_t *event, stripe_mapped_t *out, intake_error_t *err);
void intake_stripe_mapped_clear(stripe_mapped_t *m);

#endif
