/*  Fuzz target: `creance import` (services/cli): the CSV reader (csv.h),
    over arbitrary bytes, with default and with small limits so that every
    limit is hit; then the whole import mapping (import_parse: header,
    kind, column parsers, packing of each row as an IntakeItem) and the
    batch framing (import_pack_batch).

    Properties beyond "no crash, no leak, no UB":
    - the reader ends (0, or a fatal error) within len + 2 calls;
    - a field is NUL-terminated at len, has no NUL inside, and is at most
      max_field bytes; columns count 1, 2, 3 ... within a record; lines
      never go backwards and stay within the buffer's line count + 1;
    - an error has a line and a reason;
    - csv_utf8_valid and intake_utf8_valid agree (two implementations of
      the same rule);
    - every imported row decodes as an IntakeItem with a fact; every
      import error has a reason; the rows frame into an IntakeBatch that
      decodes with as many items. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "../../services/cli/csv.h"
#include "../../services/cli/import.h"
#include "../../services/intake/validate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz");
    log_set_level("error");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r';

    for (int mode = 0; mode < 2; mode++) {
        csv_t r;
        csv_init(&r, buf, size, 0);
        if (mode == 1) {
            r.max_field = 16;
            r.max_line = 64;
            r.max_file = 4096;
        }
        csv_error_t err;
        size_t calls = 0, last_line = 0;
        int rc;
        while (true) {
            CHECK(++calls <= size + 2);
            memset(&err, 0, sizeof err);
            rc = csv_next(&r, &err);
            if (rc == 0)
                break;
            if (rc < 0) {
                CHECK(err.line >= 1 && err.reason[0]);
                CHECK(memchr(err.reason, 0, sizeof err.reason));
                if (err.fatal)
                    break;
                continue;
            }
            CHECK(rc == 1);
            CHECK(r.nfields >= 1);
            for (size_t i = 0; i < r.nfields; i++) {
                const csv_field_t *f = &r.fields[i];
                CHECK(f->value[f->len] == 0);
                CHECK(strlen(f->value) == f->len);
                CHECK(f->len <= r.max_field);
                CHECK(f->column == i + 1);
                CHECK(f->line >= last_line && f->line <= lines);
                last_line = f->line;
            }
        }
        csv_free(&r);
    }

    char sep = csv_detect_separator(buf, size);
    CHECK(sep == ',' || sep == ';');
    size_t a = 0, b = 0;
    bool ok1 = csv_utf8_valid(buf, size, &a), ok2 = intake_utf8_valid(buf, size, &b);
    CHECK(ok1 == ok2);
    if (!ok1)
        CHECK(a == b);

    import_t *imp = import_parse(buf, size, IMPORT_AUTO);
    CHECK(imp);
    for (size_t i = 0; i < imp->nerrors; i++)
        CHECK(imp->errors[i].reason[0]);
    for (size_t i = 0; i < imp->nrows; i++) {
        Creance__IntakeItem *item =
            creance__intake_item__unpack(NULL, imp->rows[i].size, imp->rows[i].packed);
        CHECK(item);
        CHECK(item->fact_case != CREANCE__INTAKE_ITEM__FACT__NOT_SET);
        creance__intake_item__free_unpacked(item, NULL);
    }
    if (imp->nrows > 0) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        CHECK(import_pack_batch(imp, 0, imp->nrows, "acme", "csv", "b-1", false, &out, &out_len));
        Creance__IntakeBatch *batch = creance__intake_batch__unpack(NULL, out_len, out);
        CHECK(batch && batch->n_items == imp->nrows);
        creance__intake_batch__free_unpacked(batch, NULL);
        free(out);
    }
    import_destroy(&imp);
    return 0;
}
