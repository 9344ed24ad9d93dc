/*  import: CSV files of debtors, invoices or payments turned into intake
    facts, with every local error tied to its line and column.

    The columns of each kind are data (import_columns): name, required,
    parser, the fact field they fill and the name intake uses for that field
    in a rejection, so that a server-side REJECTED result maps back to a CSV
    column (import_column_for_field). docs/cli.md documents the same tables.

    import_parse is pure (buffer in, facts and errors out). Each good line
    becomes one packed IntakeItem, ready to be framed into IntakeBatch
    messages (import_pack_batch) without unpacking anything again. */
#ifndef CLI_IMPORT_H
#define CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IMPORT_AUTO = 0,            /* infer from the header */
    IMPORT_DEBTORS,
    IMPORT_INVOICES,
    IMPORT_PAYMENTS,
} import_kind_t;

typedef enum {
    IP_TEXT,                    /* any UTF-8 text, spaces around trimmed */
    IP_DEBTOR_KIND,             /* business | consumer */
    IP_COUNTRY,                 /* ISO 3166-1 alpha-2, any case */
    IP_CURRENCY,                /* ISO 4217, any case */
    IP_AMOUNT,                  /* decimal > 0, in the line's currency */
    IP_AMOUNT0,                 /* decimal >= 0, in the line's currency */
    IP_DATE,                    /* YYYY-MM-DD or DD/MM/YYYY */
    IP_DAYS,                    /* integer 0..3650 */
    IP_LIST,                    /* ids separated by '|' */
} import_parser_t;

typedef enum {
    IF_EXTERNAL_ID, IF_LEGAL_NAME, IF_COMPANY_ID, IF_KIND, IF_COUNTRY, IF_LANGUAGE,
    IF_TIME_ZONE, IF_EMAIL, IF_PHONE, IF_ADDRESS_LINE1, IF_ADDRESS_LINE2, IF_POSTAL_CODE,
    IF_CITY, IF_CREDIT_LIMIT, IF_CURRENCY, IF_PAYMENT_TERMS_DAYS, IF_CURRENT_ASSETS,
    IF_CURRENT_LIABILITIES, IF_DEBTOR_EXTERNAL_ID, IF_NUMBER, IF_ISSUE_DATE, IF_DUE_DATE,
    IF_AMOUNT, IF_TERMS_DAYS, IF_RECEIVED_DATE, IF_METHOD, IF_INVOICE_EXTERNAL_IDS,
    IF_COUNT
} import_target_t;

typedef struct {
    const char *name;           /* header name (matched case-insensitively) */
    bool required;              /* the header must have it and every line a value */
    import_parser_t parser;
    import_target_t target;
    const char *pb_field;       /* the field as intake names it in a rejection */
    const char *help;
} import_column_t;

#define IMPORT_MAX_ERROR 320

typedef struct {
    size_t line;                /* 1 = header; 0 = the whole file */
    size_t column;              /* 1-based field position; 0 when not one field */
    char column_name[48];       /* "" when not one column */
    char reason[IMPORT_MAX_ERROR];
} import_error_t;

typedef struct {
    size_t line;                /* CSV line where the record starts */
    uint8_t *packed;            /* one creance.IntakeItem */
    size_t size;
} import_row_t;

typedef struct {
    import_kind_t kind;
    char sep;                   /* ',' or ';' */
    size_t records;             /* data records read, good and bad */
    size_t bad_lines;           /* data records with at least one local error */
    bool file_refused;          /* header or file-level error: nothing usable */
    import_row_t *rows;
    size_t nrows, rows_cap;
    import_error_t *errors;     /* in line then column order */
    size_t nerrors, errors_cap;
    /* Header position (1-based, 0 = absent) of each target. */
    size_t position[IF_COUNT];
} import_t;

const char *import_kind_name(import_kind_t kind);
/*  "debtors", "invoices", "payments" (singular accepted). */
bool import_kind_parse(const char *text, import_kind_t *kind);
/*  The column table of a kind; *n is its length. */
const import_column_t *import_columns(import_kind_t kind, size_t *n);
/*  The column of `kind` that fills the field intake named in a rejection
    ("amount.currency" -> currency, "invoice_external_ids[2]" ->
    invoice_external_ids, "address.line1" -> address_line1); NULL if none. */
const import_column_t *import_column_for_field(import_kind_t kind, const char *field);

/*  Parses one field value with a parser. `sep` is the file's separator
    (';' allows a decimal comma), `currency` the line's currency for amounts.
    Returns false with a reason. Exposed for the tests. */
bool import_parse_amount(const char *text, const char *currency, char sep, bool allow_zero,
                         int64_t *minor, char *reason, size_t reason_len);
bool import_parse_date(const char *text, int32_t *days, char *reason, size_t reason_len);

/*  Reads a whole CSV buffer. `kind` IMPORT_AUTO infers it from the header.
    Never NULL except out of memory. */
import_t *import_parse(const char *buf, size_t len, import_kind_t kind);
void import_destroy(import_t **self_p);

/*  Frames rows[first .. first+count) as one packed IntakeBatch; the caller
    frees *out. */
bool import_pack_batch(const import_t *self, size_t first, size_t count, const char *tenant,
                       const char *source, const char *batch_id, bool all_or_nothing,
                       uint8_t **out, size_t *out_len);
/*  The same with the rows rows[0..count) (indexes into self->rows, in
    that order): one partition's share of the file. */
bool import_pack_rows(const import_t *self, const size_t *rows, size_t count, const char *tenant,
                      const char *source, const char *batch_id, bool all_or_nothing,
                      uint8_t **out, size_t *out_len);

/*  For each row, the intake instance (0..count-1) that records it:
    intakeroute_instance() of the row's item (common/intakeroute.h).
    `instance` has nrows entries. False if a row cannot be decoded. */
bool import_route(const import_t *self, const char *tenant, uint32_t count, uint32_t *instance);

#endif
