/*  penalties: statutory late-payment amounts, exact, in integer minor units.

    Pure functions over a rate table the caller loads (penalties_rates_load
    reads reminder_rates: the defaults of migration 0030 plus the tenant's
    own rows, which win for the same kind, jurisdiction and date).

    Rules, chosen by the creditor's (tenant's) country and the debtor's kind
    (penalties_rules_for):
      FR creditor, business debtor (any debtor country: a French creditor's
        contracts are under French law) -- Code de commerce L441-10, D441-5:
        interest at the ECB main refinancing rate + 10 points, the rate of
        each half-year being the one in force on 1 January / 1 July, counted
        per half-year segment; never below 3 x the legal interest rate of
        that half-year (LEGAL_RATE_PRO). A contract rate, when given,
        replaces ECB + 10 points, with the same floor. Plus 40 EUR fixed
        recovery compensation per late invoice (EUR invoices only).
        NOTE: the law puts the 3x floor on contractual rates; applying it to
        the default rate too is this project's rule (see DESIGN/issue 5).
      other EU creditor, business debtor -- directive 2011/7/EU: reference
        rate (EU_REFERENCE for the creditor's country when the table has one,
        else ECB_REFI: the euro-area reference rate) of 1 January / 1 July
        + 8 points, per half-year segment; 40 EUR fixed (EUR invoices only).
      GB creditor, business debtor -- Late Payment of Commercial Debts
        (Interest) Act 1998: Bank of England base rate in force on
        31 December (interest starting January-June) or 30 June (starting
        July-December) + 8 points, fixed for the whole life of the debt (one
        segment); fixed sum 40 / 70 / 100 GBP for a debt below 1,000 GBP /
        below 10,000 GBP / from 10,000 GBP (GBP invoices only).
      consumer debtor -- nothing, unless the contract gives a rate
        (contract_rate_bps > 0): then simple interest at that rate, no
        fixed sum.
      any other creditor country -- nothing (note says why).

    Arithmetic: rates in basis points (1 bp = 0.01 %). Interest of a segment
    = principal x rate_bps x days / (365 x 10000) with a 128-bit intermediate
    (no overflow for any int64 principal), rounded half-up (away from zero)
    to the minor unit. Each segment is rounded on its own and the invoice's
    interest is the sum of its segments, so the printed lines add up. Days
    are counted from the day after the due date to `as_of` inclusive
    (days = as_of - due_date); a year is always 365 days, leap years too
    (the French and UK practice for commercial interest).
    The principal is the invoice's open amount at `as_of`: part-payments
    made while late are not yet accounted for segment by segment (v1). */
#ifndef CREANCE_REMINDERS_PENALTIES_H
#define CREANCE_REMINDERS_PENALTIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"

typedef enum {
    PENALTIES_ECB_REFI = 1,         /* ECB main refinancing operations; jurisdiction "EU" */
    PENALTIES_LEGAL_RATE_PRO,       /* FR taux de l'intérêt légal, creditor not a consumer; "FR" */
    PENALTIES_LEGAL_RATE_CONSUMER,  /* FR legal rate, creditor a consumer; "FR" (kept, unused) */
    PENALTIES_BOE_BASE,             /* Bank of England base rate; "GB" */
    PENALTIES_EU_REFERENCE          /* a member state's directive reference rate; its country */
} penalties_kind_t;

/*  "ECB_REFI", "LEGAL_RATE_PRO", ... (the reminder_rates.kind text). */
const char *penalties_kind_name(penalties_kind_t kind);
/*  0 when unknown. */
penalties_kind_t penalties_kind_from_name(const char *name);

typedef struct {
    char jurisdiction[3];           /* "EU", "FR", "GB", or a member state */
    penalties_kind_t kind;
    int32_t valid_from;             /* days since epoch (dates.h) */
    int32_t bps;
} penalties_rate_t;

/*  Zero-initialise before use; release with penalties_rates_free. */
typedef struct {
    size_t n;
    size_t cap;
    penalties_rate_t *v;            /* kept sorted by (kind, jurisdiction, valid_from) */
} penalties_rates_t;

/*  Adds or replaces (same kind, jurisdiction, valid_from) a row. 0, or -1
    on a bad jurisdiction or out of memory. */
int  penalties_rates_add(penalties_rates_t *rates, const char *jurisdiction,
                         penalties_kind_t kind, int32_t valid_from, int32_t bps);
void penalties_rates_free(penalties_rates_t *rates);
/*  The rate in force on `date` (latest valid_from <= date). false if none. */
bool penalties_rate_at(const penalties_rates_t *rates, const char *jurisdiction,
                       penalties_kind_t kind, int32_t date, int32_t *bps);

/*  Reads reminder_rates for `tenant` (defaults, then the tenant's rows on
    top) into `rates` (emptied first). 0, or -1 on a database error. */
int  penalties_rates_load(db_t *db, const char *tenant, penalties_rates_t *rates);

typedef enum {
    PENALTIES_RULES_NONE = 0,
    PENALTIES_RULES_FR,
    PENALTIES_RULES_EU,
    PENALTIES_RULES_UK,
    PENALTIES_RULES_CONTRACT        /* consumer with a contract rate */
} penalties_rules_t;

const char *penalties_rules_name(penalties_rules_t rules);   /* "none", "fr", "eu", "uk", "contract" */

/*  Who is owed what, by whom. */
typedef struct {
    const char *creditor_country;   /* tenant's ISO 3166-1 alpha-2 */
    const char *debtor_country;     /* informative (rules follow the creditor) */
    bool debtor_business;           /* false: consumer */
    int32_t contract_rate_bps;      /* 0: none agreed */
} penalties_terms_t;

/*  True for the 27 EU member states (ISO codes, "GR" for Greece). */
bool penalties_is_eu(const char *country);
penalties_rules_t penalties_rules_for(const penalties_terms_t *terms);

typedef struct {
    int64_t principal_minor;        /* open amount */
    char currency[4];
    int32_t due_date;
} penalties_invoice_t;

/*  One run of days at one rate. */
typedef struct {
    int32_t from;                   /* first day counted */
    int32_t to;                     /* last day counted (inclusive) */
    int32_t days;
    int32_t reference_bps;          /* ECB / reference / BoE rate used (0 for contract) */
    int32_t margin_bps;             /* 1000 FR, 800 EU and UK, 0 contract */
    int32_t floor_bps;              /* FR: 3 x legal rate of the half-year; else 0 */
    int32_t rate_bps;               /* the annual rate applied */
    bool floor_applied;             /* rate_bps came from the floor */
    int64_t interest_minor;
} penalties_segment_t;

/*  A half-year per segment: 64 covers 32 years of lateness. */
#define PENALTIES_MAX_SEGMENTS 64

typedef struct {
    penalties_rules_t rules;
    char currency[4];
    int32_t due_date;
    int32_t as_of;
    int32_t days_late;              /* 0 when not late */
    size_t n_segments;
    penalties_segment_t seg[PENALTIES_MAX_SEGMENTS];
    int64_t interest_minor;         /* sum of the segments */
    int64_t fixed_minor;            /* 40 EUR, 40/70/100 GBP, or 0 */
    int64_t total_minor;            /* interest + fixed */
    /*  Static English text when something is not claimed, else NULL, e.g.
        "consumer debtor without contract rate: no statutory penalties". */
    const char *note;
} penalties_result_t;

typedef struct {
    char field[48];                 /* e.g. "rates.ECB_REFI", "invoice.currency" */
    char reason[96];                /* e.g. "no rate in force on 2025-01-01" */
} penalties_error_t;

/*  Computes the penalties of one invoice at `as_of`. 0 and fills `out`
    (all zero with a note when nothing is due: not late, consumer, other
    country), or -1 and fills `err` (missing rate, unknown currency,
    negative principal, too many segments). */
int  penalties_compute(const penalties_rates_t *rates, const penalties_terms_t *terms,
                       const penalties_invoice_t *inv, int32_t as_of,
                       penalties_result_t *out, penalties_error_t *err);

/*  principal x rate_bps x days / 3,650,000 rounded half-up; exposed for
    tests. Negative principals round away from zero symmetrically. */
int64_t penalties_interest(int64_t principal_minor, int32_t rate_bps, int32_t days);

/*  UK fixed sum in pence for a debt in pence (4000 / 7000 / 10000). */
int64_t penalties_uk_fixed(int64_t debt_minor);

/*  First day of the half-year containing `date` and of the next one. */
int32_t penalties_half_start(int32_t date);
int32_t penalties_next_half(int32_t date);

#endif
