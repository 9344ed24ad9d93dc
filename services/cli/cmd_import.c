/*  cmd_import: `creance import [KIND] FILE` (see docs/cli.md).

    Reads the whole file, checks every line locally (import.c), then sends
    the good lines to intake (send.c) and maps each rejection back to its
    line and column. Nothing is sent with --dry-run, nor in
    --all-or-nothing mode when any line is bad locally. */
#include "cli.h"
#include "import.h"
#include "send.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

#define DEFAULT_INTAKE "tcp://127.0.0.1:5560"
#define BATCH_ROWS 500
#define INTAKE_MAX_BATCH 5000   /* intake's default CREANCE_INTAKE_MAX_BATCH */

typedef struct {
    import_kind_t kind;
    bool kind_given;
    bool dry_run, all_or_nothing;
    const char *source;
    const cli_t *cli;
    const cli_command_t *cmd;
} opts_t;

enum { O_KIND = 1, O_DRY_RUN, O_ALL_OR_NOTHING, O_SOURCE };

static const cli_option_t s_options[] = {
    { "kind", true, O_KIND },
    { "dry-run", false, O_DRY_RUN },
    { "all-or-nothing", false, O_ALL_OR_NOTHING },
    { "source", true, O_SOURCE },
    { NULL, false, 0 }
};

static int
s_on_option(void *arg, int code, const char *value)
{
    opts_t *o = arg;
    switch (code) {
    case O_KIND:
        if (!import_kind_parse(value, &o->kind))
            return cli_usage_error(o->cli, o->cmd, "--kind: '%s' is not debtors, invoices "
                                   "or payments", value);
        o->kind_given = true;
        return CLI_OK;
    case O_DRY_RUN:        o->dry_run = true; return CLI_OK;
    case O_ALL_OR_NOTHING: o->all_or_nothing = true; return CLI_OK;
    case O_SOURCE:
        if (!*value || strlen(value) > 64)
            return cli_usage_error(o->cli, o->cmd, "--source: expected a name of 1 to 64 "
                                   "characters");
        o->source = value;
        return CLI_OK;
    }
    return CLI_USAGE;
}

/*  The whole file in memory (the CSV reader works on a buffer). */
static char *
s_read_file(const cli_t *cli, const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_fail(cli, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)
        && (unsigned long long) st.st_size > CSV_MAX_FILE) {
        cli_fail(cli, "%s: %lld bytes is over the %u MiB limit (split the file)", path,
                 (long long) st.st_size, CSV_MAX_FILE >> 20);
        fclose(f);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > CSV_MAX_FILE) {
                cli_fail(cli, "%s: over the %u MiB limit (split the file)", path,
                         CSV_MAX_FILE >> 20);
                goto fail;
            }
            cap *= 2;
            char *p = realloc(buf, cap);
            if (!p) {
                cli_fail(cli, "%s: out of memory", path);
                goto fail;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                cli_fail(cli, "%s: read error: %s", path, strerror(errno));
                goto fail;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    if (f != stdin)
        fclose(f);
    return NULL;
}

/* ------------------------------------------------------------ progress */

typedef struct {
    bool on;
    size_t last_shown;
} progress_t;

static void
s_progress(void *arg, size_t done, size_t total)
{
    progress_t *p = arg;
    if (!p->on)
        return;
    const int width = 30;
    int filled = total ? (int) ((double) done / (double) total * width) : width;
    fprintf(stderr, "\rimporting [");
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '#' : ' ', stderr);
    fprintf(stderr, "] %zu/%zu lines", done, total);
    if (done == total)
        fputs("\r\033[K", stderr);      /* leave the line clean for the report */
    fflush(stderr);
    p->last_shown = done;
}

/* ------------------------------------------------------------ report */

typedef struct {
    const char *file;
    const import_t *imp;
    const import_outcome_t *out;
    json_t *errors;             /* --json: collected here instead of printed */
    const cli_t *cli;
    size_t intake_rejected;     /* rejected for a reason of their own */
    size_t refused_with_batch;  /* --all-or-nothing: refused because another line was */
} report_t;

static void
s_error_line(report_t *r, size_t line, size_t column, const char *column_name,
             const char *reason, const char *origin)
{
    if (r->errors) {
        json_array_append_new(r->errors, json_pack("{s:I, s:I, s:s, s:s, s:s}",
            "line", (json_int_t) line, "column", (json_int_t) column,
            "column_name", column_name, "reason", reason, "origin", origin));
        return;
    }
    const char *on = r->cli->color_err ? "\033[31m" : "", *off = r->cli->color_err ? "\033[0m" : "";
    if (line == 0)
        fprintf(stderr, "%s%s:%s %s\n", on, r->file, off, reason);
    else if (column == 0 && *column_name)
        fprintf(stderr, "%s%s:%zu%s (%s): %s\n", on, r->file, line, off, column_name, reason);
    else if (column == 0)
        fprintf(stderr, "%s%s:%zu:%s %s\n", on, r->file, line, off, reason);
    else if (*column_name)
        fprintf(stderr, "%s%s:%zu:%zu%s (%s): %s\n", on, r->file, line, column, off,
                column_name, reason);
    else
        fprintf(stderr, "%s%s:%zu:%zu:%s %s\n", on, r->file, line, column, off, reason);
}

/*  Local errors and intake's rejections, merged in line order. */
static void
s_report_errors(report_t *r)
{
    const import_t *imp = r->imp;
    size_t e = 0;
    for (size_t i = 0; r->out && i < r->out->nrows; i++) {
        const import_row_result_t *x = &r->out->rows[i];
        if (x->status != ROW_REJECTED)
            continue;
        if (x->field && strcmp(x->field, "all_or_nothing") == 0) {
            /* Refused only because another line was: one summary, not a
               message per line. */
            r->refused_with_batch++;
            continue;
        }
        size_t line = imp->rows[i].line;
        for (; e < imp->nerrors && imp->errors[e].line <= line; e++)
            s_error_line(r, imp->errors[e].line, imp->errors[e].column,
                         imp->errors[e].column_name, imp->errors[e].reason, "local");
        const import_column_t *col = import_column_for_field(imp->kind, x->field);
        char reason[1024];
        snprintf(reason, sizeof reason, "%s (refused by intake%s%s)", x->reason,
                 col || !*x->field ? "" : ", field ", col ? "" : x->field);
        s_error_line(r, line, col ? imp->position[col->target] : 0,
                     col ? col->name : "", reason, "intake");
        r->intake_rejected++;
    }
    for (; e < imp->nerrors; e++)
        s_error_line(r, imp->errors[e].line, imp->errors[e].column, imp->errors[e].column_name,
                     imp->errors[e].reason, "local");
}

int
cmd_import(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    opts_t o = { .source = "csv", .cli = cli, .cmd = cmd };
    char *pos[2];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &o, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (cli->csv)
        return cli_usage_error(cli, cmd, "--csv: not an output of import (use --json)");
    if (npos == 0)
        return cli_usage_error(cli, cmd, "a CSV file is required");
    const char *file = pos[npos - 1];
    if (npos == 2) {
        import_kind_t k;
        if (!import_kind_parse(pos[0], &k))
            return cli_usage_error(cli, cmd, "'%s' is not debtors, invoices or payments", pos[0]);
        if (o.kind_given && k != o.kind)
            return cli_usage_error(cli, cmd, "'%s' and --kind %s disagree", pos[0],
                                   import_kind_name(o.kind));
        o.kind = k;
    }
    if (!o.dry_run && !cli->tenant)
        return cli_usage_error(cli, cmd, "no tenant: give --tenant or set CREANCE_TENANT");

    size_t len;
    char *buf = s_read_file(cli, file, &len);
    if (!buf)
        return CLI_FAILED;
    import_t *imp = import_parse(buf, len, o.kind);
    free(buf);
    if (!imp)
        return cli_fail(cli, "out of memory");

    report_t rep = { .file = file, .imp = imp, .cli = cli,
                     .errors = cli->json ? json_array() : NULL };
    import_outcome_t out;
    memset(&out, 0, sizeof out);
    const char *verdict = NULL;     /* why nothing was sent, if so */
    char verdict_buf[640];
    bool sent = false;
    long max_batch = strtol(cli_env("CREANCE_INTAKE_MAX_BATCH", "5000"), NULL, 10);
    if (max_batch < 1)
        max_batch = INTAKE_MAX_BATCH;

    if (imp->file_refused)
        verdict = "the file cannot be imported; nothing sent";
    else if (o.dry_run)
        verdict = "dry run; nothing sent";
    else if (o.all_or_nothing && imp->nerrors > 0) {
        snprintf(verdict_buf, sizeof verdict_buf, "file refused (--all-or-nothing): %zu bad "
                 "line%s; nothing sent", imp->bad_lines, imp->bad_lines == 1 ? "" : "s");
        verdict = verdict_buf;
    }
    else if (o.all_or_nothing && imp->nrows > (size_t) max_batch) {
        snprintf(verdict_buf, sizeof verdict_buf, "file refused (--all-or-nothing): %zu lines, "
                 "but intake takes at most %ld in one all-or-nothing batch; split the file "
                 "or import without --all-or-nothing", imp->nrows, max_batch);
        verdict = verdict_buf;
    }
    else if (imp->nrows > 0) {
        progress_t prog = { .on = !cli->json && isatty(STDERR_FILENO) };
        import_send_opts_t so = {
            .endpoint = cli_env("CREANCE_INTAKE_ENDPOINT", DEFAULT_INTAKE),
            .tenant = cli->tenant, .source = o.source, .timeout_s = cli->timeout_s,
            .batch = BATCH_ROWS, .window = 8, .all_or_nothing = o.all_or_nothing,
            .progress = s_progress, .progress_arg = &prog,
        };
        import_send(imp, &so, &out);
        if (prog.on && prog.last_shown != imp->nrows)
            fputs("\r\033[K", stderr);
        rep.out = &out;
        sent = true;
    }

    s_report_errors(&rep);
    size_t local_bad = imp->bad_lines;
    bool failed = imp->nerrors > 0 || out.rejected > 0 || out.unsent > 0 || *out.error
                  || (verdict && !o.dry_run);

    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
            "file", file, "kind", import_kind_name(imp->kind),
            "separator", imp->sep == ';' ? ";" : ",",
            "dry_run", o.dry_run, "all_or_nothing", o.all_or_nothing,
            "lines", (json_int_t) imp->records, "valid", (json_int_t) imp->nrows,
            "invalid", (json_int_t) local_bad, "accepted", (json_int_t) out.accepted,
            "duplicate", (json_int_t) out.duplicate, "rejected", (json_int_t) out.rejected,
            "unsent", (json_int_t) (sent ? out.unsent : imp->nrows), "errors", rep.errors);
        json_object_set_new(j, "sent", json_boolean(sent));
        json_object_set_new(j, "refused_with_batch", json_integer((json_int_t) rep.refused_with_batch));
        json_object_set_new(j, "error", json_string(verdict ? verdict : out.error));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    }
    else {
        printf("%s: %s, %zu line%s read: %zu valid, %zu invalid", file,
               import_kind_name(imp->kind), imp->records, imp->records == 1 ? "" : "s",
               imp->nrows, local_bad);
        if (sent)
            printf("; intake: %zu accepted, %zu duplicate, %zu rejected%s", out.accepted,
                   out.duplicate, out.rejected, out.unsent ? "" : "");
        if (sent && out.unsent)
            printf(", %zu not confirmed", out.unsent);
        printf("\n");
        if (o.all_or_nothing && sent && out.rejected > 0) {
            if (out.accepted == 0)
                printf("file refused by intake (--all-or-nothing): %zu line%s rejected, "
                       "%zu other%s refused with %s; nothing new recorded\n", rep.intake_rejected,
                       rep.intake_rejected == 1 ? "" : "s", rep.refused_with_batch,
                       rep.refused_with_batch == 1 ? "" : "s",
                       rep.intake_rejected == 1 ? "it" : "them");
            else
                printf("warning: intake recorded %zu lines although one was rejected: this "
                       "intake does not apply all_or_nothing\n", out.accepted);
        }
    }
    if (verdict && !cli->json && (imp->file_refused || !o.dry_run || imp->nerrors))
        fprintf(stderr, "%s: %s\n", file, verdict);
    else if (verdict && !cli->json && o.dry_run)
        printf("%s\n", verdict);
    int status = CLI_OK;
    if (*out.error) {
        status = cli_fail(cli, "%s", out.error);
        if (out.accepted + out.duplicate + out.rejected > 0 && !cli->json)
            fprintf(stderr, "creance: %zu lines were answered before that; %zu were not "
                    "confirmed: import the file again (lines already recorded come back "
                    "as duplicates)\n", out.accepted + out.duplicate + out.rejected, out.unsent);
    }
    else if (failed)
        status = CLI_FAILED;
    import_outcome_free(&out);
    import_destroy(&imp);
    return status;
}
