/*  channels: the real peers a reminder is delivered to.

      e-mail  SMTP through libcurl (CREANCE_SMTP_URL, e.g. smtp://host:25 or
              smtps://...), one message per call, with the Message-ID as the
              idempotency key: SMTP servers do not deduplicate on it, so the
              outbox guarantees "one decision, retried only while not
              acknowledged" (delivery.h says where a duplicate can still
              happen);
      SMS     HTTP POST of JSON {"to","text","reference"} to CREANCE_SMS_URL
              with "Idempotency-Key: <key>" and "Authorization: Bearer
              <CREANCE_SMS_TOKEN>" (a secret: never logged); 2xx is sent (the
              gateway's "id" is kept), 4xx a permanent refusal (fall back),
              anything else is retried;
      letter  a PDF in the outbox folder of the print provider
              (CREANCE_LETTER_OUTBOX), named after the idempotency key: written
              to "<name>.tmp" then renamed, so a crash never leaves half a
              file and a retry replaces the same name.

    Each call blocks for at most the configured timeout: the service calls
    them from its zloop in small batches (delivery.h). */
#ifndef CREANCE_REMINDERS_CHANNELS_H
#define CREANCE_REMINDERS_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    REM_SEND_OK = 0,
    REM_SEND_RETRY,                 /* transient: try again later */
    REM_SEND_PERMANENT              /* refused for good: fall back */
} rem_send_status_t;

typedef struct {
    rem_send_status_t status;
    char provider_id[300];          /* Message-ID, gateway id, file path */
    char error[400];
} rem_send_result_t;

typedef struct {
    const char *url;                /* smtp://127.0.0.1:2525 */
    const char *from;               /* envelope and header sender */
    const char *user;               /* optional AUTH */
    const char *password;
    long timeout_ms;
} rem_smtp_t;

/*  The RFC 5322 message (CRLF line ends, UTF-8 subject in an encoded-word);
    malloc'd. Exposed for tests. */
char *rem_smtp_message(const char *from, const char *to, const char *subject, const char *body,
                       const char *message_id, long long date_s);
void rem_smtp_send(const rem_smtp_t *cfg, const char *to, const char *subject, const char *body,
                   const char *message_id, rem_send_result_t *res);

typedef struct {
    const char *url;
    const char *token;
    long timeout_ms;
} rem_sms_t;

void rem_sms_send(const rem_sms_t *cfg, const char *to, const char *text, const char *key,
                  rem_send_result_t *res);

/*  Writes `pdf` (len bytes) as <dir>/<name> through a temporary file and a
    rename. 0 or -1 with `err` filled. */
int  rem_outbox_write(const char *dir, const char *name, const unsigned char *data, size_t len,
                      char *err, size_t errlen);
/*  A plain A4 PDF of `title` and `text` (cairo), into memory. */
int  rem_pdf_text(const char *title, const char *text, unsigned char **pdf, size_t *len);

#endif
