/*  csv: an RFC 4180 reader over a buffer in memory.

    What it accepts: fields separated by ',' or ';' (chosen from the header
    line: the one that occurs more often outside quotes, ',' on a tie),
    records ended by CRLF or LF (a lone CR too, old Mac exports), the last
    record with or without a line end, fields enclosed in double quotes with
    "" standing for one quote and commas and line ends allowed inside, a
    UTF-8 byte order mark at the very start (Excel's "CSV UTF-8" writes one).
    Blank lines are skipped. A record with fewer fields than the header is
    the caller's business; the reader only reports what it found.

    What it refuses, with the line and column of the offending field: a
    quote inside an unquoted field, anything but a separator or a line end
    after a closing quote, a NUL byte, a field over max_field bytes, a
    record over max_line bytes, an unterminated quoted field, a buffer over
    max_file bytes. After a bad record the reader resumes at the next line,
    so that one bad line does not hide the others; an unterminated quote
    and an oversize buffer end the reading (csv_error_t.fatal).

    Positions: `line` is the physical line (1 = the header) where a field
    starts; a quoted field with line ends inside spans several lines, so
    the record after it starts further down. `column` is the field's
    position in its record, 1 = the first (what a spreadsheet shows as A).

    Pure: no I/O, no global state; csv_next only reads the buffer and
    writes the reader, which makes it easy to fuzz. */
#ifndef CLI_CSV_H
#define CLI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_MAX_FIELD  (4u * 1024)            /* bytes of one field, unescaped */
#define CSV_MAX_LINE   (64u * 1024)           /* bytes of one record, as written */
#define CSV_MAX_FILE   (256u * 1024 * 1024)   /* bytes of the whole buffer */

typedef struct {
    const char *value;      /* unescaped, NUL-terminated (a NUL inside is refused) */
    size_t len;
    size_t line;            /* physical line where the field starts */
    size_t column;          /* 1-based position in the record */
    bool quoted;
} csv_field_t;

typedef struct {
    size_t line;            /* 0 when there is no error */
    size_t column;
    bool fatal;             /* nothing more can be read */
    char reason[160];
} csv_error_t;

typedef struct {
    /* Input and limits; csv_init sets the defaults, tests may lower them. */
    const char *buf;
    size_t len;
    size_t max_field, max_line, max_file;
    char sep;               /* 0: detect from the header; ',' or ';' once known */
    bool bom;               /* a UTF-8 BOM was skipped */

    /* State. */
    size_t pos;             /* next byte to read */
    size_t line;            /* physical line of buf[pos] */
    bool done;

    /* The current record: fields point into `text`, valid until the next call. */
    csv_field_t *fields;
    size_t nfields, fields_cap;
    char *text;
    size_t text_len, text_cap;
    size_t record_line;     /* line where the current record starts */
} csv_t;

/*  Prepares `r` to read `buf` (not copied; must outlive the reader).
    `sep` is ',' or ';' to force one, 0 to detect it from the header. */
void csv_init(csv_t *r, const char *buf, size_t len, char sep);
/*  Frees the record buffers. */
void csv_free(csv_t *r);

/*  Reads the next record. Returns 1 with the record in r->fields /
    r->nfields, 0 at the end of the buffer, -1 on an error described by
    `err` (then call again to go on with the next line, unless err->fatal). */
int csv_next(csv_t *r, csv_error_t *err);

/*  The separator the header uses: ';' when it has more semicolons than
    commas outside quotes, ',' otherwise. Exposed for the tests. */
char csv_detect_separator(const char *buf, size_t len);

/*  Strict UTF-8 (no overlong forms, no surrogates, nothing above
    U+10FFFF). *bad_at, when not NULL, is the offset of the first bad byte. */
bool csv_utf8_valid(const char *s, size_t len, size_t *bad_at);

#endif
