/*  compose: a decided reminder -> what the channel carries.

    Reads the reminder, its items (open amounts as decided), the invoices'
    numbers and dates, the debtor and the creditor (rem_creditors, or the
    tenant's name and FR), computes the statutory penalties of each invoice
    (penalties.h, rates from reminder_rates) and renders the message of the
    level's template in the debtor's language (render.h). When rendering
    fails (a missing rate, a template error) the reminder still goes out
    with a minimal internal text, and the reason is logged and counted: a
    reminder never waits on a template. */
#ifndef CREANCE_REMINDERS_COMPOSE_H
#define CREANCE_REMINDERS_COMPOSE_H

#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "penalties.h"
#include "render.h"

#define REM_COMPOSE_MAX_INVOICES 256

typedef struct {
    /* the reminder */
    int64_t reminder_id;
    int64_t debtor_id;
    int level;
    char template_key[48];
    char currency[4];
    int32_t planned_date;
    /* the debtor */
    char legal_name[256];
    char email[256];
    char phone[64];
    char language[16];
    char country[3];
    bool business;
    char street[256], postal_code[32], city[128], addr_country[3];
    /* the creditor */
    char cred_name[256], cred_company[64], cred_country[3], cred_street[256], cred_postal[32];
    char cred_city[128], cred_email[256], cred_phone[64], iban[64], bic[32], signatory[128];
    char pay_url[256], reference[64];
    /* invoices */
    size_t n;
    char numbers[REM_COMPOSE_MAX_INVOICES][64];
    render_invoice_t inv[REM_COMPOSE_MAX_INVOICES];
    penalties_result_t pen[REM_COMPOSE_MAX_INVOICES];
    render_data_t data;
    /* the message */
    char *subject;
    char *body;
    bool fallback_text;             /* rendering failed: internal text used */
    char render_error[200];
} rem_composed_t;

/*  0 when loaded (the message rendered or the fallback text used), -1 on
    a database error or an unknown reminder. Release with rem_compose_free. */
int  rem_compose(db_t *db, const char *tenant, int64_t reminder_id, rem_composed_t *out);
void rem_compose_free(rem_composed_t *c);
/*  render_msg_t of a template key ("courtesy" ...); FRIENDLY when unknown. */
render_msg_t rem_compose_kind(const char *template_key);

#endif
