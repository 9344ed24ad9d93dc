/*  templates: the reminder texts, one subject and one body per kind and
    language, embedded as C strings (no files to deploy or lose). The
    syntax is render.h's; the values are those of render_ctx_from_data. */
#ifndef CREANCE_REMINDERS_TEMPLATES_H
#define CREANCE_REMINDERS_TEMPLATES_H

#include "render.h"

typedef struct {
    const char *subject;
    const char *body;
} templates_entry_t;

/*  The template of `kind` in exactly `lang`; NULL when there is none. */
const templates_entry_t *templates_find(render_msg_t kind, render_lang_t lang);

#endif
