/*  letter: the PDF documents of the last levels, drawn with cairo (A4,
    DejaVu Sans through fontconfig, so accents and € render).

    letter_formal_notice: the mise en demeure (level +30). French for a
      French debtor (country FR) or a French-speaking one, English ("Formal
      notice", still saying "mise en demeure" in the legal sentence)
      otherwise. Carries: creditor and debtor blocks, place and date, the
      title "Mise en demeure de payer", the words "mise en demeure" in the
      text, a table of the invoices (number, issue date, due date, amount,
      open), the statutory penalties with their explanation, the total, the
      payment deadline (date + deadline_days, default 8), how to pay (IBAN,
      BIC, reference, link) and a signature block.

    letter_dossier: the hand-off dossier (level +45) for a collection
      agency or a lawyer: a cover page (parties, totals, date), the
      invoices with their penalties, every reminder sent (date, level,
      channel, status) and the debtor's answers (disputes, promises,
      messages). Always in the creditor's language (render_lang_for with
      the creditor's country).

    Both write the PDF into memory (*pdf malloc'd, caller frees) or to a
    file (the _file variants). They allocate nothing global and can run
    in any thread. Errors name the data field (from render_ctx_from_data)
    or the cairo status. */
#ifndef CREANCE_REMINDERS_LETTER_H
#define CREANCE_REMINDERS_LETTER_H

#include <stddef.h>
#include <stdint.h>
#include "render.h"

typedef struct {
    int32_t date;                   /* when it was sent (or planned) */
    int level;                      /* days relative to due: -5, 1, 10, 20, 30, 45 */
    const char *kind;               /* render_msg_name() or free text */
    const char *channel;            /* "email", "sms", "letter", "phone", "handoff" */
    const char *status;             /* "sent", "delivered", "failed", "bounced" ... */
    const char *invoices;           /* invoice numbers concerned, e.g. "F-1, F-2"; may be NULL */
} letter_reminder_t;

typedef struct {
    int32_t date;
    const char *kind;               /* "dispute", "promise", "plan", "message" */
    const char *text;               /* the debtor's words or a summary */
    const char *status;             /* "open", "resolved", "kept", "broken"; may be NULL */
} letter_answer_t;

typedef struct {
    const letter_reminder_t *reminders;
    size_t n_reminders;
    const letter_answer_t *answers;
    size_t n_answers;
    const char *agency;             /* who receives the dossier; may be NULL */
} letter_history_t;

int letter_formal_notice(const render_data_t *data, unsigned char **pdf, size_t *len,
                         render_error_t *err);
int letter_formal_notice_file(const render_data_t *data, const char *path, render_error_t *err);

int letter_dossier(const render_data_t *data, const letter_history_t *history,
                   unsigned char **pdf, size_t *len, render_error_t *err);
int letter_dossier_file(const render_data_t *data, const letter_history_t *history,
                        const char *path, render_error_t *err);

/*  Frees cairo's process-wide font caches (leak checkers report them
    otherwise). Call once at exit, when no letter is being drawn. */
void letter_global_cleanup(void);

#endif
