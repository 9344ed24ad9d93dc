-- Two more segments for reporting's KPIs: the debtor's risk grade (A..E,
-- from risk's RiskScored on stream "risk"; '-' before the first score) and
-- the collector assigned to the debtor ('' when none; set through
-- PUT /api/v1/debtors/{id}/collector, services/reporting/segments.c).
--
-- Unlike country and kind, grade and collector change during an invoice's
-- life, and a credit manager wants "what do grade E debtors owe now" and
-- "what is in Alice's portfolio now". So a fact carries the grade and
-- collector its debtor had when it happened, and when they change the open
-- amounts of the debtor's invoices move from the old segment to the new one
-- on that day (rpt_open_due / rpt_open_moves, and rpt_daily.transferred_minor
-- so that receivables per segment, invoiced - settled + transferred, follow):
-- aging and outstanding as of any day are by the segment of that day. Flows
-- (sales, collections, disputes, reminders) stay where they happened.

ALTER TABLE rpt_debtors
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';

-- Who was assigned to which debtor, when (the current one is rpt_debtors.collector).
CREATE TABLE rpt_collector_assignments (
    tenant       text NOT NULL,
    debtor_id    bigint NOT NULL,
    collector    text NOT NULL,           -- '' = unassigned
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, debtor_id, assigned_at)
);

ALTER TABLE rpt_invoices
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';
ALTER TABLE rpt_disputes
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';
ALTER TABLE rpt_plans
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';
ALTER TABLE rpt_promises
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';
ALTER TABLE rpt_reminders
    ADD COLUMN grade     char(1),
    ADD COLUMN collector text;
ALTER TABLE rpt_reminded
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '';

-- The fact tables: the two segment columns join the key.
ALTER TABLE rpt_daily
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '',
    ADD COLUMN transferred_minor bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT rpt_daily_pkey,
    ADD PRIMARY KEY (tenant, currency, country, kind, grade, collector, day);
ALTER TABLE rpt_open_due
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '',
    DROP CONSTRAINT rpt_open_due_pkey,
    ADD PRIMARY KEY (tenant, currency, country, kind, grade, collector, due_date);
ALTER TABLE rpt_open_moves
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '',
    DROP CONSTRAINT rpt_open_moves_pkey,
    ADD PRIMARY KEY (tenant, currency, country, kind, grade, collector, due_date, day);
ALTER TABLE rpt_reminder_daily
    ADD COLUMN grade     char(1) NOT NULL DEFAULT '-',
    ADD COLUMN collector text NOT NULL DEFAULT '',
    DROP CONSTRAINT rpt_reminder_daily_pkey,
    ADD PRIMARY KEY (tenant, currency, country, kind, grade, collector, day, level, channel);
