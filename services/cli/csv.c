/*  csv: RFC 4180 reader over a buffer (see csv.h for what it accepts). */
#include "csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
csv_init(csv_t *r, const char *buf, size_t len, char sep)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->len = len;
    r->max_field = CSV_MAX_FIELD;
    r->max_line = CSV_MAX_LINE;
    r->max_file = CSV_MAX_FILE;
    r->line = 1;
    if (len >= 3 && (unsigned char) buf[0] == 0xEF && (unsigned char) buf[1] == 0xBB
        && (unsigned char) buf[2] == 0xBF) {
        r->bom = true;
        r->pos = 3;
    }
    r->sep = sep == ',' || sep == ';' ? sep
             : csv_detect_separator(buf + r->pos, len - r->pos);
}

void
csv_free(csv_t *r)
{
    free(r->fields);
    free(r->text);
    r->fields = NULL;
    r->text = NULL;
    r->nfields = r->fields_cap = r->text_len = r->text_cap = 0;
}

char
csv_detect_separator(const char *buf, size_t len)
{
    size_t commas = 0, semis = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '"')
            quoted = !quoted;       /* "" toggles twice: still right */
        else if (quoted)
            continue;
        else if (c == '\n' || c == '\r')
            break;
        else if (c == ',')
            commas++;
        else if (c == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

bool
csv_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        else if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else goto bad;
        if (len - i <= n)
            goto bad;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

/* ------------------------------------------------------------ record building */

static void
s_fail(csv_error_t *err, size_t line, size_t column, bool fatal, const char *fmt, ...)
{
    err->line = line;
    err->column = column;
    err->fatal = fatal;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
}

static bool
s_put(csv_t *r, char c)
{
    if (r->text_len + 1 >= r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap * 2 : 256;
        char *p = realloc(r->text, cap);
        if (!p)
            return false;
        r->text = p;
        r->text_cap = cap;
    }
    r->text[r->text_len++] = c;
    return true;
}

/*  Field values are stored as offsets while the text buffer may move;
    csv_next turns them into pointers once the record is complete. */
static bool
s_push_field(csv_t *r, size_t offset, size_t len, size_t line, bool quoted)
{
    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        csv_field_t *p = realloc(r->fields, cap * sizeof *p);
        if (!p)
            return false;
        r->fields = p;
        r->fields_cap = cap;
    }
    r->fields[r->nfields] = (csv_field_t) {
        .value = (const char *) (uintptr_t) offset, .len = len, .line = line,
        .column = r->nfields + 1, .quoted = quoted,
    };
    r->nfields++;
    return true;
}

/*  Consumes one line end at pos (CRLF, LF or CR) and counts it. */
static void
s_eat_eol(csv_t *r)
{
    if (r->buf[r->pos] == '\r' && r->pos + 1 < r->len && r->buf[r->pos + 1] == '\n')
        r->pos++;
    r->pos++;
    r->line++;
}

/*  After a bad record: skips to just past the end of the record. In a
    quoted field (in_quotes) line ends belong to the field, so the skip
    follows the quoting until the field closes; elsewhere it stops at the
    next line end, so that a stray quote cannot swallow the lines after it.
    Returns false when the buffer ends inside quotes. */
static bool
s_skip_record(csv_t *r, bool in_quotes)
{
    while (r->pos < r->len) {
        char c = r->buf[r->pos];
        if (in_quotes) {
            if (c == '"') {
                if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"')
                    r->pos += 2;
                else {
                    in_quotes = false;
                    r->pos++;
                }
                continue;
            }
            if (c == '\n' || c == '\r')
                s_eat_eol(r);
            else
                r->pos++;
            continue;
        }
        if (c == '\n' || c == '\r') {
            s_eat_eol(r);
            return true;
        }
        r->pos++;
    }
    return !in_quotes;
}

static int
s_bad_record(csv_t *r, csv_error_t *err, bool in_quotes, size_t open_line)
{
    if (!s_skip_record(r, in_quotes)) {
        /* The field never closed: what follows cannot be read reliably. */
        char keep[sizeof err->reason];
        memcpy(keep, err->reason, sizeof keep);
        snprintf(err->reason, sizeof err->reason,
                 "%.100s; the quoted field opened on line %zu never closes", keep, open_line);
        err->fatal = true;
        r->done = true;
    }
    if (r->pos >= r->len)
        r->done = true;
    return -1;
}

int
csv_next(csv_t *r, csv_error_t *err)
{
    memset(err, 0, sizeof *err);
    r->nfields = 0;
    r->text_len = 0;
    if (r->done)
        return 0;
    if (r->len > r->max_file) {
        s_fail(err, 0, 0, true, "the file is %zu bytes, over the %zu-byte limit (split it)",
               r->len, r->max_file);
        r->done = true;
        return -1;
    }
    /* Blank lines between records carry nothing. */
    while (r->pos < r->len && (r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r'))
        s_eat_eol(r);
    if (r->pos >= r->len) {
        r->done = true;
        return 0;
    }

    const char sep = r->sep;
    const size_t start = r->pos;
    r->record_line = r->line;

    for (;;) {
        size_t fline = r->line, column = r->nfields + 1, offset = r->text_len;
        bool quoted = r->pos < r->len && r->buf[r->pos] == '"';
        if (quoted) {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    s_fail(err, fline, column, true,
                           "quoted field opened on line %zu never closes (a missing '\"')",
                           fline);
                    r->done = true;
                    return -1;
                }
                char c = r->buf[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
                        r->pos += 2;
                        c = '"';
                    }
                    else {
                        r->pos++;
                        break;
                    }
                }
                else if (c == '\0') {
                    s_fail(err, r->line, column, false, "NUL byte in the field (not a text file?)");
                    return s_bad_record(r, err, true, fline);
                }
                else if (c == '\n' || (c == '\r' && !(r->pos + 1 < r->len && r->buf[r->pos + 1] == '\n'))) {
                    r->pos++;
                    r->line++;
                }
                else
                    r->pos++;
                if (r->text_len - offset >= r->max_field) {
                    s_fail(err, fline, column, false, "field longer than %zu bytes", r->max_field);
                    return s_bad_record(r, err, true, fline);
                }
                if (r->pos - start > r->max_line) {
                    s_fail(err, fline, column, false, "line longer than %zu bytes", r->max_line);
                    return s_bad_record(r, err, true, fline);
                }
                if (!s_put(r, c)) {
                    s_fail(err, fline, column, true, "out of memory");
                    r->done = true;
                    return -1;
                }
            }
            if (r->pos < r->len) {
                char c = r->buf[r->pos];
                if (c != sep && c != '\n' && c != '\r') {
                    s_fail(err, fline, column, false,
                           "'%c' after the closing quote (a quote inside a quoted field "
                           "is written \"\")", c >= ' ' && c < 127 ? c : '?');
                    return s_bad_record(r, err, false, fline);
                }
            }
        }
        else {
            while (r->pos < r->len) {
                char c = r->buf[r->pos];
                if (c == sep || c == '\n' || c == '\r')
                    break;
                if (c == '"') {
                    s_fail(err, fline, column, false,
                           "quote inside an unquoted field (enclose the field in quotes "
                           "and write the quote as \"\")");
                    return s_bad_record(r, err, false, fline);
                }
                if (c == '\0') {
                    s_fail(err, fline, column, false, "NUL byte in the field (not a text file?)");
                    return s_bad_record(r, err, false, fline);
                }
                if (r->text_len - offset >= r->max_field) {
                    s_fail(err, fline, column, false, "field longer than %zu bytes", r->max_field);
                    return s_bad_record(r, err, false, fline);
                }
                if (r->pos - start >= r->max_line) {
                    s_fail(err, fline, column, false, "line longer than %zu bytes", r->max_line);
                    return s_bad_record(r, err, false, fline);
                }
                if (!s_put(r, c)) {
                    s_fail(err, fline, column, true, "out of memory");
                    r->done = true;
                    return -1;
                }
                r->pos++;
            }
        }
        size_t flen = r->text_len - offset;
        if (!s_put(r, '\0') || !s_push_field(r, offset, flen, fline, quoted)) {
            s_fail(err, fline, column, true, "out of memory");
            r->done = true;
            return -1;
        }
        if (r->pos >= r->len) {
            r->done = true;
            break;
        }
        if (r->buf[r->pos] == sep) {
            r->pos++;
            continue;               /* a separator then a line end: an empty last field */
        }
        s_eat_eol(r);
        break;
    }
    if (r->pos - start > r->max_line + 2) {
        /* Only line ends can still push a record over (the checks above
           run per byte of field). */
        s_fail(err, r->record_line, 1, false, "line longer than %zu bytes", r->max_line);
        r->nfields = 0;
        return -1;
    }
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i].value = r->text + (uintptr_t) r->fields[i].value;
    return 1;
}
