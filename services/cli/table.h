/*  table: rows of text printed as an aligned table (columns padded by
    their display width, numbers right-aligned) or as RFC 4180 CSV. */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cli_table_t cli_table_t;

/*  `right` says, per column, whether it is right-aligned (NULL: none). */
cli_table_t *cli_table_new(size_t ncols, const char *const *headers, const bool *right);
void cli_table_destroy(cli_table_t **self_p);
/*  Copies `ncols` cells (NULL counts as ""). */
int  cli_table_add(cli_table_t *self, const char *const *cells);
/*  Aligned columns, two spaces apart; the header in bold when `bold`. */
void cli_table_print(const cli_table_t *self, FILE *out, bool bold);
void cli_table_print_csv(const cli_table_t *self, FILE *out);
/*  Number of code points of UTF-8 text: its width on a terminal for the
    scripts a ledger holds (no wide CJK here). */
size_t cli_text_width(const char *s);
/*  Writes one CSV field, quoted when it needs to be. */
void cli_csv_field(FILE *out, const char *s);

#endif
