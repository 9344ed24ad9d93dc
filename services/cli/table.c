/*  table: aligned or CSV output of rows (see table.h). */
#include "table.h"

#include <stdlib.h>
#include <string.h>

struct cli_table_t {
    size_t ncols, nrows, cap;
    char **cells;               /* (nrows + 1) * ncols, row 0 = headers */
    bool *right;
};

cli_table_t *
cli_table_new(size_t ncols, const char *const *headers, const bool *right)
{
    cli_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ncols = ncols;
    self->right = calloc(ncols, sizeof *self->right);
    if (right)
        memcpy(self->right, right, ncols * sizeof *right);
    self->nrows = 0;
    if (cli_table_add(self, headers) != 0) {
        cli_table_destroy(&self);
        return NULL;
    }
    return self;
}

void
cli_table_destroy(cli_table_t **self_p)
{
    cli_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self->right);
    free(self);
    *self_p = NULL;
}

int
cli_table_add(cli_table_t *self, const char *const *cells)
{
    if (self->nrows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        char **p = realloc(self->cells, cap * self->ncols * sizeof *p);
        if (!p)
            return -1;
        self->cells = p;
        self->cap = cap;
    }
    for (size_t c = 0; c < self->ncols; c++)
        self->cells[self->nrows * self->ncols + c] = strdup(cells[c] ? cells[c] : "");
    self->nrows++;
    return 0;
}

size_t
cli_text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char) *s & 0xC0) != 0x80)
            n++;
    return n;
}

void
cli_table_print(const cli_table_t *self, FILE *out, bool bold)
{
    size_t *width = calloc(self->ncols, sizeof *width);
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < self->ncols; c++) {
            size_t w = cli_text_width(self->cells[r * self->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < self->nrows; r++) {
        if (r == 0 && bold)
            fputs("\033[1m", out);
        for (size_t c = 0; c < self->ncols; c++) {
            const char *cell = self->cells[r * self->ncols + c];
            size_t pad = width[c] - cli_text_width(cell);
            bool last = c + 1 == self->ncols;
            if (self->right[c])
                fprintf(out, "%*s%s", (int) pad, "", cell);
            else
                fprintf(out, "%s%*s", cell, last ? 0 : (int) pad, "");
            if (!last)
                fputs("  ", out);
        }
        if (r == 0 && bold)
            fputs("\033[0m", out);
        fputc('\n', out);
    }
    free(width);
}

void
cli_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n;")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void
cli_table_print_csv(const cli_table_t *self, FILE *out)
{
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t c = 0; c < self->ncols; c++) {
            if (c)
                fputc(',', out);
            cli_csv_field(out, self->cells[r * self->ncols + c]);
        }
        fputs("\r\n", out);
    }
}
