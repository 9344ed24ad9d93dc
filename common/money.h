/*  money: ISO 4217 currencies and amounts in integer minor units. */
#ifndef CREANCE_MONEY_H
#define CREANCE_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  True for an active ISO 4217 code (upper case, three letters). */
bool currency_known(const char *code);
/*  Number of minor-unit digits (2 for EUR, 0 for JPY, 3 for KWD); -1 if unknown. */
int  currency_exponent(const char *code);
/*  "1234.50" style decimal text of an amount; out needs 32 bytes. */
void money_format(int64_t minor, const char *currency, char *out, size_t outlen);
/*  Parses a decimal amount ("1234.5", "1234.50", "-3") into minor units of
    `currency`; false on bad syntax, too many decimals or overflow. */
bool money_parse(const char *text, const char *currency, int64_t *minor);

#endif
