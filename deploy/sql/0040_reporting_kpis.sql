-- Reporting's KPI facts, maintained incrementally by the reporting consumer
-- from the "ledger" stream (services/reporting/facts.c), in the same
-- transaction as its consumer position. A KPI query sums a few of these
-- rows; it never scans the ledger's tables.
--
-- Segments: every fact carries the debtor's country and kind (1 business,
-- 2 consumer) as they were when the invoice was issued (or the payment /
-- dispute recorded): a later DebtorUpdated does not move history between
-- segments.

-- Debtors as reporting knows them (for segments and the debtor page).
CREATE TABLE rpt_debtors (
    tenant      text NOT NULL,
    debtor_id   bigint NOT NULL,
    external_id text NOT NULL DEFAULT '',
    legal_name  text NOT NULL DEFAULT '',
    country     char(2) NOT NULL DEFAULT '--',
    kind        smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, debtor_id)
);

-- One row per invoice: what is needed to know when it is fully paid (days to
-- pay, days late) and which due-date bucket its open amount sits in.
CREATE TABLE rpt_invoices (
    tenant        text NOT NULL,
    invoice_id    bigint NOT NULL,
    debtor_id     bigint NOT NULL,
    number        text NOT NULL DEFAULT '',
    currency      char(3) NOT NULL,
    country       char(2) NOT NULL,
    kind          smallint NOT NULL,
    issue_date    date NOT NULL,
    due_date      date NOT NULL,
    amount_minor  bigint NOT NULL,
    open_minor    bigint NOT NULL,
    disputed_minor bigint NOT NULL DEFAULT 0,
    paid_date     date,
    PRIMARY KEY (tenant, invoice_id)
);
CREATE INDEX rpt_invoices_by_debtor ON rpt_invoices (tenant, debtor_id, due_date);
CREATE INDEX rpt_invoices_open_due ON rpt_invoices (tenant, due_date) WHERE open_minor > 0;

-- Per (tenant, currency, segment, day) facts. Which date a column is keyed
-- by is part of its name's definition:
--   issue day:     invoiced_minor, invoice_count (credit notes and
--                  cancellations subtract from invoiced_minor on their day,
--                  adjustments add their difference on theirs)
--   received day:  collected_minor (allocated to invoices), payments_minor (cash received)
--   settle day:    settled_minor (allocations and write-offs; reversals
--                  subtract), so that
--                  outstanding(D) = sum over day <= D of (invoiced - settled)
--   due day:       fell_due_minor, fell_due_count
--   paid day:      paid_count, days_to_pay_sum, days_late_sum (invoices whose
--                  open amount reached 0 through a payment that day)
--   write-off day: written_off_minor
--   dispute days:  disputes_opened, disputes_opened_minor (opened day);
--                  disputes_resolved, disputes_resolved_minor, resolution_days_sum (resolved day)
CREATE TABLE rpt_daily (
    tenant                  text NOT NULL,
    currency                char(3) NOT NULL,
    country                 char(2) NOT NULL,
    kind                    smallint NOT NULL,
    day                     date NOT NULL,
    invoiced_minor          bigint NOT NULL DEFAULT 0,
    invoice_count           bigint NOT NULL DEFAULT 0,
    collected_minor         bigint NOT NULL DEFAULT 0,
    payments_minor          bigint NOT NULL DEFAULT 0,
    settled_minor           bigint NOT NULL DEFAULT 0,
    fell_due_minor          bigint NOT NULL DEFAULT 0,
    fell_due_count          bigint NOT NULL DEFAULT 0,
    paid_count              bigint NOT NULL DEFAULT 0,
    days_to_pay_sum         bigint NOT NULL DEFAULT 0,
    days_late_sum           bigint NOT NULL DEFAULT 0,
    written_off_minor       bigint NOT NULL DEFAULT 0,
    disputes_opened         bigint NOT NULL DEFAULT 0,
    disputes_opened_minor   bigint NOT NULL DEFAULT 0,
    disputes_resolved       bigint NOT NULL DEFAULT 0,
    disputes_resolved_minor bigint NOT NULL DEFAULT 0,
    resolution_days_sum     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, currency, country, kind, day)
);

-- Open items by due date, as of the latest event: aging as of today is a sum
-- over these rows, bucketed by (as_of - due_date). collected_minor: what
-- payments have taken off invoices of that due date (for the recovery rate).
CREATE TABLE rpt_open_due (
    tenant      text NOT NULL,
    currency    char(3) NOT NULL,
    country     char(2) NOT NULL,
    kind        smallint NOT NULL,
    due_date    date NOT NULL,
    open_minor  bigint NOT NULL DEFAULT 0,
    open_count  bigint NOT NULL DEFAULT 0,
    collected_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, currency, country, kind, due_date)
);

-- The changes that made rpt_open_due, by (due date, day they took effect).
-- Aging as of an earlier date D = rpt_open_due minus the moves with day > D:
-- only the moves after D are read, none when D is today.
CREATE TABLE rpt_open_moves (
    tenant       text NOT NULL,
    currency     char(3) NOT NULL,
    country      char(2) NOT NULL,
    kind         smallint NOT NULL,
    due_date     date NOT NULL,
    day          date NOT NULL,
    delta_minor  bigint NOT NULL DEFAULT 0,
    delta_count  bigint NOT NULL DEFAULT 0,
    delta_collected_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, currency, country, kind, due_date, day)
);
CREATE INDEX rpt_open_moves_by_day ON rpt_open_moves (tenant, day);

-- Disputes as reporting knows them (opened day for the resolution time).
CREATE TABLE rpt_disputes (
    tenant        text NOT NULL,
    dispute_id    bigint NOT NULL,
    invoice_id    bigint NOT NULL,
    currency      char(3) NOT NULL,
    country       char(2) NOT NULL,
    kind          smallint NOT NULL,
    amount_minor  bigint NOT NULL,
    opened_date   date NOT NULL,
    resolved_date date,
    PRIMARY KEY (tenant, dispute_id)
);
