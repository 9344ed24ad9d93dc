/*  import: CSV lines to intake facts (see import.h). */
#include "import.h"
#include "csv.h"

#include "creance.pb-c.h"
#include "dates.h"
#include "intakeroute.h"
#include "money.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ the column tables */

#define COL(name, req, parser, target, pb, help) { name, req, parser, target, pb, help }

static const import_column_t s_debtor_columns[] = {
    COL("external_id", true, IP_TEXT, IF_EXTERNAL_ID, "external_id", "the debtor's id in your system (unique)"),
    COL("legal_name", true, IP_TEXT, IF_LEGAL_NAME, "legal_name", "registered name"),
    COL("company_id", false, IP_TEXT, IF_COMPANY_ID, "company_id", "SIREN, VAT or company number"),
    COL("kind", false, IP_DEBTOR_KIND, IF_KIND, "kind", "business or consumer"),
    COL("country", false, IP_COUNTRY, IF_COUNTRY, "country", "ISO 3166-1 alpha-2, e.g. FR"),
    COL("language", false, IP_TEXT, IF_LANGUAGE, "language", "BCP 47, e.g. fr"),
    COL("time_zone", false, IP_TEXT, IF_TIME_ZONE, "time_zone", "IANA, e.g. Europe/Paris"),
    COL("email", false, IP_TEXT, IF_EMAIL, "email", "where reminders go"),
    COL("phone", false, IP_TEXT, IF_PHONE, "phone", "international format preferred"),
    COL("address_line1", false, IP_TEXT, IF_ADDRESS_LINE1, "address.line1", "postal address"),
    COL("address_line2", false, IP_TEXT, IF_ADDRESS_LINE2, "address.line2", "postal address, continued"),
    COL("postal_code", false, IP_TEXT, IF_POSTAL_CODE, "address.postal_code", "postal code"),
    COL("city", false, IP_TEXT, IF_CITY, "address.city", "city"),
    COL("credit_limit", false, IP_AMOUNT0, IF_CREDIT_LIMIT, "credit_limit", "decimal amount in currency"),
    COL("currency", false, IP_CURRENCY, IF_CURRENCY, "currency", "ISO 4217 of the amounts; required when one is given"),
    COL("payment_terms_days", false, IP_DAYS, IF_PAYMENT_TERMS_DAYS, "payment_terms_days", "0..3650"),
    COL("current_assets", false, IP_AMOUNT0, IF_CURRENT_ASSETS, "current_assets", "decimal amount in currency"),
    COL("current_liabilities", false, IP_AMOUNT0, IF_CURRENT_LIABILITIES, "current_liabilities", "decimal amount in currency"),
};

static const import_column_t s_invoice_columns[] = {
    COL("external_id", true, IP_TEXT, IF_EXTERNAL_ID, "external_id", "the invoice's id in your system (unique)"),
    COL("debtor_external_id", true, IP_TEXT, IF_DEBTOR_EXTERNAL_ID, "debtor_external_id", "external_id of a debtor already imported"),
    COL("number", true, IP_TEXT, IF_NUMBER, "number", "invoice number as printed"),
    COL("issue_date", true, IP_DATE, IF_ISSUE_DATE, "issue_date", "YYYY-MM-DD or DD/MM/YYYY"),
    COL("due_date", true, IP_DATE, IF_DUE_DATE, "due_date", "YYYY-MM-DD or DD/MM/YYYY, not before issue_date"),
    COL("amount", true, IP_AMOUNT, IF_AMOUNT, "amount", "decimal amount with tax, > 0"),
    COL("currency", true, IP_CURRENCY, IF_CURRENCY, "amount.currency", "ISO 4217, e.g. EUR"),
    COL("terms_days", false, IP_DAYS, IF_TERMS_DAYS, "terms_days", "0..3650"),
};

static const import_column_t s_payment_columns[] = {
    COL("external_id", true, IP_TEXT, IF_EXTERNAL_ID, "external_id", "the payment's id in your system (unique)"),
    COL("debtor_external_id", true, IP_TEXT, IF_DEBTOR_EXTERNAL_ID, "debtor_external_id", "external_id of the paying debtor"),
    COL("received_date", true, IP_DATE, IF_RECEIVED_DATE, "received_date", "YYYY-MM-DD or DD/MM/YYYY"),
    COL("amount", true, IP_AMOUNT, IF_AMOUNT, "amount", "decimal amount, > 0"),
    COL("currency", true, IP_CURRENCY, IF_CURRENCY, "amount.currency", "ISO 4217, e.g. EUR"),
    COL("method", false, IP_TEXT, IF_METHOD, "method", "transfer, card, direct_debit, cheque, ..."),
    COL("invoice_external_ids", false, IP_LIST, IF_INVOICE_EXTERNAL_IDS, "invoice_external_ids",
        "invoices paid, in order, separated by |; empty: oldest due first"),
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

const import_column_t *
import_columns(import_kind_t kind, size_t *n)
{
    switch (kind) {
    case IMPORT_DEBTORS:  *n = NELEMS(s_debtor_columns); return s_debtor_columns;
    case IMPORT_INVOICES: *n = NELEMS(s_invoice_columns); return s_invoice_columns;
    case IMPORT_PAYMENTS: *n = NELEMS(s_payment_columns); return s_payment_columns;
    default:              *n = 0; return NULL;
    }
}

const char *
import_kind_name(import_kind_t kind)
{
    switch (kind) {
    case IMPORT_DEBTORS:  return "debtors";
    case IMPORT_INVOICES: return "invoices";
    case IMPORT_PAYMENTS: return "payments";
    default:              return "auto";
    }
}

bool
import_kind_parse(const char *text, import_kind_t *kind)
{
    static const struct { const char *name; import_kind_t kind; } names[] = {
        { "debtors", IMPORT_DEBTORS }, { "debtor", IMPORT_DEBTORS },
        { "invoices", IMPORT_INVOICES }, { "invoice", IMPORT_INVOICES },
        { "payments", IMPORT_PAYMENTS }, { "payment", IMPORT_PAYMENTS },
    };
    for (size_t i = 0; i < NELEMS(names); i++)
        if (strcmp(text, names[i].name) == 0) {
            *kind = names[i].kind;
            return true;
        }
    return false;
}

const import_column_t *
import_column_for_field(import_kind_t kind, const char *field)
{
    size_t n;
    const import_column_t *cols = import_columns(kind, &n);
    if (!field || !*field)
        return NULL;
    /* "invoice_external_ids[2]" names the list's column. */
    size_t flen = strcspn(field, "[");
    for (size_t i = 0; i < n; i++)
        if (strlen(cols[i].pb_field) == flen && strncmp(cols[i].pb_field, field, flen) == 0)
            return &cols[i];
    /* "credit_limit.currency": the debtor's figures share one currency column. */
    const char *dot = strrchr(field, '.');
    if (dot && strcmp(dot, ".currency") == 0)
        for (size_t i = 0; i < n; i++)
            if (cols[i].target == IF_CURRENCY)
                return &cols[i];
    /* "amount.minor" and the like: the column of the parent. */
    if (dot) {
        size_t plen = (size_t) (dot - field);
        for (size_t i = 0; i < n; i++)
            if (strlen(cols[i].pb_field) == plen && strncmp(cols[i].pb_field, field, plen) == 0)
                return &cols[i];
    }
    return NULL;
}

/* ------------------------------------------------------------ value parsers */

static bool
s_reason(char *reason, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
    return false;
}

bool
import_parse_amount(const char *text, const char *currency, char sep, bool allow_zero,
                    int64_t *minor, char *reason, size_t reason_len)
{
    char buf[64];
    size_t n = strlen(text);
    if (n == 0)
        return s_reason(reason, reason_len, "empty amount");
    if (n >= sizeof buf)
        return s_reason(reason, reason_len, "'%.20s...' is too long for an amount", text);
    memcpy(buf, text, n + 1);
    char *comma = strchr(buf, ',');
    if (comma) {
        /* A decimal comma only where it cannot be a field separator. */
        if (sep != ';')
            return s_reason(reason, reason_len,
                            "'%s': write the decimal separator as '.' in a comma-separated file", text);
        if (strchr(buf, '.'))
            return s_reason(reason, reason_len,
                            "'%s': no thousands separators (write 1234,50 or 1234.50)", text);
        *comma = '.';
    }
    if (!currency || !*currency)
        return s_reason(reason, reason_len, "'%s' needs a currency: the currency column is empty",
                        text);
    int exponent = currency_exponent(currency);
    if (exponent < 0)
        return s_reason(reason, reason_len, "'%s' needs a known currency", text);
    if (!money_parse(buf, currency, minor)) {
        const char *dot = strchr(buf, '.');
        if (dot && (int) strlen(dot + 1) > exponent && strspn(dot + 1, "0123456789") == strlen(dot + 1))
            return s_reason(reason, reason_len, "'%s' has more than %d decimals for %s", text,
                            exponent, currency);
        return s_reason(reason, reason_len,
                        "'%s' is not a decimal amount (digits, one '.'%s, no spaces or symbols)",
                        text, sep == ';' ? " or ','" : "");
    }
    if (*minor < 0 || (*minor == 0 && !allow_zero))
        return s_reason(reason, reason_len, "'%s' must be %s", text,
                        allow_zero ? "zero or more" : "more than zero");
    return true;
}

static bool
s_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool
import_parse_date(const char *text, int32_t *days, char *reason, size_t reason_len)
{
    size_t n = strlen(text);
    int y, m, d;
    if (n == 10 && text[4] == '-' && text[7] == '-' && s_digits(text, 4) && s_digits(text + 5, 2)
        && s_digits(text + 8, 2)) {
        y = atoi(text);
        m = atoi(text + 5);
        d = atoi(text + 8);
    }
    else if (n == 10 && text[2] == '/' && text[5] == '/' && s_digits(text, 2)
             && s_digits(text + 3, 2) && s_digits(text + 6, 4)) {
        d = atoi(text);
        m = atoi(text + 3);
        y = atoi(text + 6);
    }
    else
        return s_reason(reason, reason_len, "'%.40s' is not a date (YYYY-MM-DD or DD/MM/YYYY)",
                        text);
    if (!date_valid(y, m, d))
        return s_reason(reason, reason_len, "'%s' is not a day of the calendar", text);
    if (y < 1900 || y > 2999)
        return s_reason(reason, reason_len, "'%s' is outside the years 1900 to 2999", text);
    *days = date_to_days(y, m, d);
    return true;
}

/* ------------------------------------------------------------ parsing a file */

typedef struct {
    bool present;               /* a non-empty value */
    const char *text;           /* trimmed, NUL-terminated (in the line's scratch) */
    int64_t minor;
    int32_t days;
    int32_t number;
} value_t;

static bool
s_add_error(import_t *self, size_t line, size_t column, const char *name, const char *fmt, ...)
{
    if (self->nerrors == self->errors_cap) {
        size_t cap = self->errors_cap ? self->errors_cap * 2 : 8;
        import_error_t *p = realloc(self->errors, cap * sizeof *p);
        if (!p)
            return false;
        self->errors = p;
        self->errors_cap = cap;
    }
    import_error_t *e = &self->errors[self->nerrors++];
    memset(e, 0, sizeof *e);
    e->line = line;
    e->column = column;
    snprintf(e->column_name, sizeof e->column_name, "%s", name ? name : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    return true;
}

static bool
s_add_row(import_t *self, size_t line, uint8_t *packed, size_t size)
{
    if (self->nrows == self->rows_cap) {
        size_t cap = self->rows_cap ? self->rows_cap * 2 : 64;
        import_row_t *p = realloc(self->rows, cap * sizeof *p);
        if (!p)
            return false;
        self->rows = p;
        self->rows_cap = cap;
    }
    self->rows[self->nrows++] = (import_row_t) { line, packed, size };
    return true;
}

static import_kind_t
s_infer_kind(const csv_t *r)
{
    bool debtor = false, invoice = false, payment = false;
    for (size_t i = 0; i < r->nfields; i++) {
        const char *h = r->fields[i].value;
        while (*h == ' ' || *h == '\t')
            h++;
        if (strncasecmp(h, "legal_name", 10) == 0)
            debtor = true;
        else if (strncasecmp(h, "issue_date", 10) == 0 || strncasecmp(h, "due_date", 8) == 0)
            invoice = true;
        else if (strncasecmp(h, "received_date", 13) == 0)
            payment = true;
    }
    if (debtor + invoice + payment != 1)
        return IMPORT_AUTO;
    return debtor ? IMPORT_DEBTORS : invoice ? IMPORT_INVOICES : IMPORT_PAYMENTS;
}

/*  Trims spaces and tabs in place; returns the start. */
static char *
s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static bool
s_header(import_t *self, csv_t *r, const import_column_t **by_pos)
{
    size_t n;
    const import_column_t *cols = import_columns(self->kind, &n);
    bool ok = true;
    for (size_t i = 0; i < r->nfields; i++) {
        char *name = s_trim((char *) r->fields[i].value);
        const import_column_t *col = NULL;
        for (size_t k = 0; k < n && !col; k++)
            if (strcasecmp(name, cols[k].name) == 0)
                col = &cols[k];
        by_pos[i] = col;
        if (!col) {
            char known[512] = "";
            for (size_t k = 0; k < n; k++) {
                strncat(known, cols[k].name, sizeof known - strlen(known) - 1);
                if (k + 1 < n)
                    strncat(known, ", ", sizeof known - strlen(known) - 1);
            }
            s_add_error(self, r->fields[i].line, i + 1, name,
                        "unknown column for %s (known: %s)", import_kind_name(self->kind), known);
            ok = false;
            continue;
        }
        if (self->position[col->target]) {
            s_add_error(self, r->fields[i].line, i + 1, col->name,
                        "column given twice (also column %zu)", self->position[col->target]);
            ok = false;
            continue;
        }
        self->position[col->target] = i + 1;
    }
    for (size_t k = 0; k < n; k++)
        if (cols[k].required && !self->position[cols[k].target]) {
            s_add_error(self, r->record_line, 0, cols[k].name,
                        "required column missing from the header");
            ok = false;
        }
    return ok;
}

static bool
s_ascii_upper(char *s, size_t want_len)
{
    size_t n = strlen(s);
    if (n != want_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalpha((unsigned char) s[i]))
            return false;
        s[i] = (char) toupper((unsigned char) s[i]);
    }
    return true;
}

/*  Parses one value (every parser but the amounts, which need the line's
    currency and run in a second pass). */
static bool
s_parse_value(const import_column_t *col, char *text, value_t *v, char *reason, size_t rlen)
{
    v->text = text;
    v->present = *text != '\0';
    if (!v->present)
        return col->required ? s_reason(reason, rlen, "required value is empty") : true;
    switch (col->parser) {
    case IP_TEXT:
    case IP_LIST:
    case IP_AMOUNT:
    case IP_AMOUNT0:
        return true;
    case IP_DEBTOR_KIND:
        if (strcasecmp(text, "business") == 0)
            v->number = CREANCE__DEBTOR_KIND__BUSINESS;
        else if (strcasecmp(text, "consumer") == 0)
            v->number = CREANCE__DEBTOR_KIND__CONSUMER;
        else
            return s_reason(reason, rlen, "'%.40s' is not business or consumer", text);
        return true;
    case IP_COUNTRY:
        if (!s_ascii_upper(text, 2))
            return s_reason(reason, rlen, "'%.40s' is not a two-letter country code (FR, BE, ...)", text);
        return true;
    case IP_CURRENCY:
        if (!s_ascii_upper(text, 3) || !currency_known(text))
            return s_reason(reason, rlen, "'%.40s' is not an ISO 4217 currency (EUR, GBP, ...)", text);
        return true;
    case IP_DATE:
        return import_parse_date(text, &v->days, reason, rlen);
    case IP_DAYS: {
        char *end;
        long d = strtol(text, &end, 10);
        if (*end || end == text || d < 0 || d > 3650)
            return s_reason(reason, rlen, "'%.40s' is not a number of days from 0 to 3650", text);
        v->number = (int32_t) d;
        return true;
    }
    }
    return s_reason(reason, rlen, "no parser");
}

/*  The ids of a payment: "F1|F2|F3", spaces around each trimmed. Splits
    `text` in place; *ids holds pointers into it. */
static size_t
s_split_list(char *text, char ***ids)
{
    size_t n = 1;
    for (char *p = text; *p; p++)
        n += *p == '|';
    char **v = calloc(n, sizeof *v);
    if (!v)
        return 0;
    size_t k = 0;
    for (char *p = text;;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        v[k++] = s_trim(p);
        if (!bar)
            break;
        p = bar + 1;
    }
    *ids = v;
    return k;
}

static char *
s_str(const value_t *v)
{
    return v->present ? (char *) v->text : (char *) "";
}

/*  Builds the fact of a good line and packs it. */
static uint8_t *
s_pack(import_kind_t kind, value_t *v, size_t *size, char *reason, size_t rlen, size_t *bad_target)
{
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    Creance__DebtorFact debtor = CREANCE__DEBTOR_FACT__INIT;
    Creance__InvoiceFact invoice = CREANCE__INVOICE_FACT__INIT;
    Creance__PaymentFact payment = CREANCE__PAYMENT_FACT__INIT;
    Creance__PostalAddress address = CREANCE__POSTAL_ADDRESS__INIT;
    Creance__Money m1 = CREANCE__MONEY__INIT, m2 = CREANCE__MONEY__INIT, m3 = CREANCE__MONEY__INIT;
    Creance__Date d1 = CREANCE__DATE__INIT, d2 = CREANCE__DATE__INIT;
    char *currency = s_str(&v[IF_CURRENCY]);
    char **ids = NULL;

    switch (kind) {
    case IMPORT_DEBTORS:
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_DEBTOR;
        item.debtor = &debtor;
        debtor.external_id = s_str(&v[IF_EXTERNAL_ID]);
        debtor.legal_name = s_str(&v[IF_LEGAL_NAME]);
        debtor.company_id = s_str(&v[IF_COMPANY_ID]);
        debtor.kind = v[IF_KIND].present ? (Creance__DebtorKind) v[IF_KIND].number
                                          : CREANCE__DEBTOR_KIND__DEBTOR_KIND_UNSPECIFIED;
        debtor.country = s_str(&v[IF_COUNTRY]);
        debtor.language = s_str(&v[IF_LANGUAGE]);
        debtor.time_zone = s_str(&v[IF_TIME_ZONE]);
        debtor.email = s_str(&v[IF_EMAIL]);
        debtor.phone = s_str(&v[IF_PHONE]);
        if (v[IF_ADDRESS_LINE1].present || v[IF_ADDRESS_LINE2].present
            || v[IF_POSTAL_CODE].present || v[IF_CITY].present) {
            address.line1 = s_str(&v[IF_ADDRESS_LINE1]);
            address.line2 = s_str(&v[IF_ADDRESS_LINE2]);
            address.postal_code = s_str(&v[IF_POSTAL_CODE]);
            address.city = s_str(&v[IF_CITY]);
            address.country = debtor.country;
            debtor.address = &address;
        }
        if (v[IF_CREDIT_LIMIT].present) {
            m1.minor = v[IF_CREDIT_LIMIT].minor;
            m1.currency = currency;
            debtor.credit_limit = &m1;
        }
        if (v[IF_CURRENT_ASSETS].present) {
            m2.minor = v[IF_CURRENT_ASSETS].minor;
            m2.currency = currency;
            debtor.current_assets = &m2;
        }
        if (v[IF_CURRENT_LIABILITIES].present) {
            m3.minor = v[IF_CURRENT_LIABILITIES].minor;
            m3.currency = currency;
            debtor.current_liabilities = &m3;
        }
        debtor.payment_terms_days = v[IF_PAYMENT_TERMS_DAYS].number;
        break;
    case IMPORT_INVOICES:
        if (v[IF_DUE_DATE].days < v[IF_ISSUE_DATE].days) {
            *bad_target = IF_DUE_DATE;
            s_reason(reason, rlen, "due date %s is before the issue date %s",
                     v[IF_DUE_DATE].text, v[IF_ISSUE_DATE].text);
            return NULL;
        }
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_INVOICE;
        item.invoice = &invoice;
        invoice.external_id = s_str(&v[IF_EXTERNAL_ID]);
        invoice.debtor_external_id = s_str(&v[IF_DEBTOR_EXTERNAL_ID]);
        invoice.number = s_str(&v[IF_NUMBER]);
        date_to_pb(v[IF_ISSUE_DATE].days, &d1);
        date_to_pb(v[IF_DUE_DATE].days, &d2);
        invoice.issue_date = &d1;
        invoice.due_date = &d2;
        m1.minor = v[IF_AMOUNT].minor;
        m1.currency = currency;
        invoice.amount = &m1;
        invoice.terms_days = v[IF_TERMS_DAYS].number;
        break;
    case IMPORT_PAYMENTS:
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
        item.payment = &payment;
        payment.external_id = s_str(&v[IF_EXTERNAL_ID]);
        payment.debtor_external_id = s_str(&v[IF_DEBTOR_EXTERNAL_ID]);
        date_to_pb(v[IF_RECEIVED_DATE].days, &d1);
        payment.received_date = &d1;
        m1.minor = v[IF_AMOUNT].minor;
        m1.currency = currency;
        payment.amount = &m1;
        payment.method = s_str(&v[IF_METHOD]);
        if (v[IF_INVOICE_EXTERNAL_IDS].present) {
            payment.n_invoice_external_ids =
                s_split_list((char *) v[IF_INVOICE_EXTERNAL_IDS].text, &ids);
            payment.invoice_external_ids = ids;
            for (size_t i = 0; i < payment.n_invoice_external_ids; i++)
                if (!*ids[i]) {
                    *bad_target = IF_INVOICE_EXTERNAL_IDS;
                    s_reason(reason, rlen, "invoice id %zu of the list is empty (ids are "
                             "separated by a single |)", i + 1);
                    free(ids);
                    return NULL;
                }
        }
        break;
    default:
        return NULL;
    }
    *size = creance__intake_item__get_packed_size(&item);
    uint8_t *out = malloc(*size ? *size : 1);
    if (out)
        creance__intake_item__pack(&item, out);
    free(ids);
    return out;
}

static void
s_data_line(import_t *self, csv_t *r, const import_column_t **by_pos, size_t ncols)
{
    value_t v[IF_COUNT];
    memset(v, 0, sizeof v);
    size_t before = self->nerrors;
    char reason[IMPORT_MAX_ERROR];

    if (r->nfields > ncols)
        s_add_error(self, r->fields[ncols].line, ncols + 1, "",
                    "%zu fields on the line, the header has %zu columns "
                    "(a value with a separator in it must be quoted)", r->nfields, ncols);
    size_t n;
    const import_column_t *cols = import_columns(self->kind, &n);
    /* First pass: every value but the amounts, which need the currency. */
    for (size_t k = 0; k < n; k++) {
        size_t pos = self->position[cols[k].target];
        if (!pos)
            continue;
        const import_column_t *col = &cols[k];
        const csv_field_t *f = pos <= r->nfields ? &r->fields[pos - 1] : NULL;
        size_t line = f ? f->line : r->record_line;
        char *text = f ? s_trim((char *) f->value) : (char *) "";
        size_t bad;
        if (f && !csv_utf8_valid(text, strlen(text), &bad)) {
            s_add_error(self, line, pos, col->name,
                        "not valid UTF-8 at byte %zu (save the file as \"CSV UTF-8\")", bad + 1);
            continue;
        }
        if (!s_parse_value(col, text, &v[col->target], reason, sizeof reason))
            s_add_error(self, line, pos, col->name, "%s", reason);
    }
    /* Second pass: amounts in the line's currency. */
    const char *currency = v[IF_CURRENCY].present ? v[IF_CURRENCY].text : NULL;
    bool currency_ok = true;
    for (size_t i = before; i < self->nerrors; i++)
        if (self->position[IF_CURRENCY] && self->errors[i].column == self->position[IF_CURRENCY])
            currency_ok = false;
    for (size_t k = 0; k < n; k++) {
        const import_column_t *col = &cols[k];
        value_t *x = &v[col->target];
        size_t pos = self->position[col->target];
        if ((col->parser != IP_AMOUNT && col->parser != IP_AMOUNT0) || !pos || !x->present)
            continue;
        if (!currency_ok)
            continue;               /* already reported at the currency */
        if (!import_parse_amount(x->text, currency, self->sep, col->parser == IP_AMOUNT0,
                                 &x->minor, reason, sizeof reason))
            s_add_error(self, r->fields[pos - 1].line, pos, col->name, "%s", reason);
    }
    if (self->nerrors == before) {
        size_t size = 0, bad_target = IF_COUNT;
        uint8_t *packed = s_pack(self->kind, v, &size, reason, sizeof reason, &bad_target);
        if (packed) {
            s_add_row(self, r->record_line, packed, size);
            return;
        }
        if (bad_target < IF_COUNT) {
            size_t pos = self->position[bad_target];
            const char *name = "";
            for (size_t k = 0; k < n; k++)
                if (cols[k].target == bad_target)
                    name = cols[k].name;
            s_add_error(self, pos && pos <= r->nfields ? r->fields[pos - 1].line : r->record_line,
                        pos, name, "%s", reason);
        }
        else
            s_add_error(self, r->record_line, 0, "", "out of memory");
    }
    self->bad_lines++;
}

static int
s_error_cmp(const void *a, const void *b)
{
    const import_error_t *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return strcmp(x->column_name, y->column_name);
}

import_t *
import_parse(const char *buf, size_t len, import_kind_t kind)
{
    import_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->kind = kind;
    csv_t r;
    csv_init(&r, buf, len, 0);
    self->sep = r.sep;
    csv_error_t err;
    const import_column_t **by_pos = NULL;
    size_t ncols = 0;

    int rc = csv_next(&r, &err);
    if (rc <= 0) {
        if (rc == 0)
            s_add_error(self, 0, 0, "", "the file is empty: a header line is required");
        else
            s_add_error(self, err.line, err.column, "", "%s", err.reason);
        self->file_refused = true;
        goto done;
    }
    if (self->kind == IMPORT_AUTO) {
        self->kind = s_infer_kind(&r);
        if (self->kind == IMPORT_AUTO) {
            s_add_error(self, r.record_line, 0, "",
                        "cannot tell debtors, invoices or payments from the header "
                        "(give --kind)");
            self->file_refused = true;
            goto done;
        }
    }
    ncols = r.nfields;
    by_pos = calloc(ncols, sizeof *by_pos);
    if (!by_pos || !s_header(self, &r, by_pos)) {
        self->file_refused = true;
        goto done;
    }
    for (;;) {
        rc = csv_next(&r, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            s_add_error(self, err.line, err.column, "", "%s", err.reason);
            if (err.line > 0)
                self->records++, self->bad_lines++;
            if (err.fatal) {
                if (err.line == 0)
                    self->file_refused = true;
                break;
            }
            continue;
        }
        self->records++;
        s_data_line(self, &r, by_pos, ncols);
    }
done:
    /* Errors come per line in table order; the report reads best by line
       then column. */
    if (self->nerrors > 1)
        qsort(self->errors, self->nerrors, sizeof *self->errors, s_error_cmp);
    free(by_pos);
    csv_free(&r);
    return self;
}

void
import_destroy(import_t **self_p)
{
    import_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrows; i++)
        free(self->rows[i].packed);
    free(self->rows);
    free(self->errors);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------ batches */

static size_t
s_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/*  IntakeBatch.items is field 4: each item is appended as tag 0x22, its
    length, its bytes, which is exactly what packing the message would
    give, without unpacking the items again. */
/*  rows[first .. first+count), or rows[idx[0..count)] when idx is given. */
static bool
s_pack_rows(const import_t *self, size_t first, const size_t *idx, size_t count,
            const char *tenant, const char *source, const char *batch_id, bool all_or_nothing,
            uint8_t **out, size_t *out_len)
{
    Creance__IntakeBatch batch = CREANCE__INTAKE_BATCH__INIT;
    batch.tenant = (char *) tenant;
    batch.source = (char *) source;
    batch.batch_id = (char *) batch_id;
    batch.all_or_nothing = all_or_nothing;
    size_t head = creance__intake_batch__get_packed_size(&batch);
    size_t total = head;
    for (size_t k = 0; k < count; k++)
        total += 1 + 10 + self->rows[idx ? idx[k] : first + k].size;
    uint8_t *buf = malloc(total);
    if (!buf)
        return false;
    size_t n = creance__intake_batch__pack(&batch, buf);
    for (size_t k = 0; k < count; k++) {
        const import_row_t *row = &self->rows[idx ? idx[k] : first + k];
        buf[n++] = (4 << 3) | 2;
        n += s_varint(buf + n, row->size);
        memcpy(buf + n, row->packed, row->size);
        n += row->size;
    }
    *out = buf;
    *out_len = n;
    return true;
}

bool
import_pack_batch(const import_t *self, size_t first, size_t count, const char *tenant,
                  const char *source, const char *batch_id, bool all_or_nothing,
                  uint8_t **out, size_t *out_len)
{
    return s_pack_rows(self, first, NULL, count, tenant, source, batch_id, all_or_nothing,
                       out, out_len);
}

bool
import_pack_rows(const import_t *self, const size_t *rows, size_t count, const char *tenant,
                 const char *source, const char *batch_id, bool all_or_nothing,
                 uint8_t **out, size_t *out_len)
{
    return s_pack_rows(self, 0, rows, count, tenant, source, batch_id, all_or_nothing,
                       out, out_len);
}

bool
import_route(const import_t *self, const char *tenant, uint32_t count, uint32_t *instance)
{
    for (size_t i = 0; i < self->nrows; i++) {
        if (count <= 1) {
            instance[i] = 0;
            continue;
        }
        /* The row as intake will read it, through the function intake's
           own partition check uses. */
        Creance__IntakeItem *item = creance__intake_item__unpack(NULL, self->rows[i].size,
                                                                 self->rows[i].packed);
        if (!item)
            return false;
        instance[i] = intakeroute_instance(tenant, item, count);
        creance__intake_item__free_unpacked(item, NULL);
    }
    return true;
}
