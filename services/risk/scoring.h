/*  scoring: debtor behaviour from the ledger stream, the score kept up to
    date, RiskScored / GradeChanged on stream "risk", predictions per open
    invoice.

    Inside the consumer's transaction, for each ledger event:
      risk_scoring_apply   updates risk_invoices / risk_debtor_profile /
                           risk_population and marks the debtor touched;
    just before the positions are written (consumer precommit):
      risk_scoring_precommit  rescores every touched debtor as of
                           date_today(): profile (score, grade, factors,
                           snapshot), risk_score_history and events when the
                           score or grade moved, risk_predictions rewritten;
                           then flushes the events into event_log;
    after the commit:
      risk_scoring_committed  publishes the events and writes each touched
                           debtor's complete Redis hash (read back from
                           PostgreSQL in the transaction, so it is exactly
                           what a rebuild would write).

    "Overdue" depends on today: risk_scoring_daily rescores, in its own
    transactions of a few hundred debtors, every debtor with open invoices
    not yet scored today (at start and after midnight). */
#ifndef CREANCE_RISK_SCORING_H
#define CREANCE_RISK_SCORING_H

#include "bus.h"
#include "creance.pb-c.h"
#include "db.h"
#include "riskcache.h"
#include "partition.h"
#include "scorecard.h"

typedef struct risk_scoring_t risk_scoring_t;

/*  bus may be NULL (nothing published: tests, tools). */
risk_scoring_t *risk_scoring_new(risk_cache_t *cache, bus_t *bus);
void risk_scoring_destroy(risk_scoring_t **self_p);

/*  The debtors this instance owns (default 0/1, all): the daily rescoring
    selects only theirs. */
void risk_scoring_set_partition(risk_scoring_t *self, const partition_t *part);

int  risk_scoring_apply(risk_scoring_t *self, db_t *db, const Creance__Envelope *env);
/*  Marks a debtor for rescoring in this transaction (exposure changed). */
int  risk_scoring_touch(risk_scoring_t *self, const char *tenant, int64_t debtor_id);
int  risk_scoring_precommit(risk_scoring_t *self, db_t *db);
/*  0 when the Redis write succeeded (or there was nothing to write). */
int  risk_scoring_committed(risk_scoring_t *self);
void risk_scoring_aborted(risk_scoring_t *self);

/*  One batch of the daily rescoring: the number of debtors rescored (0 once
    everything is current for today), or -1 on a database error. */
int  risk_scoring_daily(risk_scoring_t *self, db_t *db);

/*  The tenant's policy (its row, else the '*' row, else built-in defaults),
    cached for a minute. 0, or -1 on a database error. */
int  risk_scoring_policy(risk_scoring_t *self, db_t *db, const char *tenant, risk_policy_t *out);

#endif
