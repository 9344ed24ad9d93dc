-- Reporting's collection KPIs: payment plans, promises to pay and reminder
-- effectiveness, maintained incrementally by the reporting consumer from the
-- "ledger" and "reminders" streams (services/reporting/collect.c), in the
-- same transaction as its consumer positions.

-- Plans and promises ride on rpt_daily (same segments, same currencies).
-- Which date a column is keyed by is part of its definition:
--   instalment due day:  instalments_paid (paid on time: InstalmentPaid),
--                        instalments_missed (InstalmentMissed), and their amounts
--   outcome day:         plans_completed, plans_defaulted
--   promised day:        promises_kept, promises_broken, and their amounts
ALTER TABLE rpt_daily
    ADD COLUMN instalments_paid         bigint NOT NULL DEFAULT 0,
    ADD COLUMN instalments_missed       bigint NOT NULL DEFAULT 0,
    ADD COLUMN instalments_paid_minor   bigint NOT NULL DEFAULT 0,
    ADD COLUMN instalments_missed_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN plans_completed          bigint NOT NULL DEFAULT 0,
    ADD COLUMN plans_defaulted          bigint NOT NULL DEFAULT 0,
    ADD COLUMN promises_kept            bigint NOT NULL DEFAULT 0,
    ADD COLUMN promises_broken          bigint NOT NULL DEFAULT 0,
    ADD COLUMN promises_kept_minor      bigint NOT NULL DEFAULT 0,
    ADD COLUMN promises_broken_minor    bigint NOT NULL DEFAULT 0;

-- Plans as reporting knows them (PaymentPlanAgreed): PlanCompleted and
-- PlanDefaulted carry no currency, the plan's instalments do.
CREATE TABLE rpt_plans (
    tenant     text NOT NULL,
    plan_id    bigint NOT NULL,
    debtor_id  bigint NOT NULL,
    currency   char(3) NOT NULL,
    country    char(2) NOT NULL,
    kind       smallint NOT NULL,
    PRIMARY KEY (tenant, plan_id)
);

-- Promises as reporting knows them (PromiseMade): PromiseKept/Broken carry
-- only the promise's id, its amount and promised date are here.
CREATE TABLE rpt_promises (
    tenant        text NOT NULL,
    promise_id    bigint NOT NULL,
    debtor_id     bigint NOT NULL,
    currency      char(3) NOT NULL,
    country       char(2) NOT NULL,
    kind          smallint NOT NULL,
    amount_minor  bigint NOT NULL,
    promised_date date NOT NULL,
    outcome       text,                 -- NULL (open), 'kept', 'broken'
    PRIMARY KEY (tenant, promise_id)
);

-- Reminders as reporting knows them: ReminderScheduled names the invoices,
-- ReminderSent the day, level and channel actually used (a fallback may
-- change the channel). currency: the reminded invoices' (a reminder never
-- mixes currencies); for a reminder that names no invoice (an instalment
-- reminder), the currency of the debtor's latest invoice.
CREATE TABLE rpt_reminders (
    tenant       text NOT NULL,
    reminder_id  bigint NOT NULL,
    debtor_id    bigint NOT NULL,
    invoice_ids  bigint[] NOT NULL DEFAULT '{}',
    level        int NOT NULL,
    channel      text NOT NULL,
    currency     char(3),
    country      char(2),
    kind         smallint,
    sent_date    date,                  -- NULL until ReminderSent
    PRIMARY KEY (tenant, reminder_id)
);
-- Contacts per debtor: count(DISTINCT debtor_id) of the reminders sent in
-- a period, read from this index alone.
CREATE INDEX rpt_reminders_sent ON rpt_reminders (tenant, sent_date, currency, debtor_id)
    WHERE sent_date IS NOT NULL;

-- One row per (invoice, reminder sent about it): when the invoice is fully
-- paid, the reminders sent up to 14 days before are credited with it, and
-- those sent after it stop counting it as reminded.
CREATE TABLE rpt_reminded (
    tenant       text NOT NULL,
    invoice_id   bigint NOT NULL,
    reminder_id  bigint NOT NULL,
    sent_date    date NOT NULL,
    level        int NOT NULL,
    channel      text NOT NULL,
    currency     char(3) NOT NULL,
    country      char(2) NOT NULL,
    kind         smallint NOT NULL,
    PRIMARY KEY (tenant, invoice_id, reminder_id)
);

-- Per (segment, sent day, level, channel): reminders sent, invoices they
-- named, and how many of those invoices were fully paid within 7 / 14 days
-- after the reminder (paid_date - sent_date <= 7 / 14, paid on or after
-- the day it was sent).
CREATE TABLE rpt_reminder_daily (
    tenant            text NOT NULL,
    currency          char(3) NOT NULL,
    country           char(2) NOT NULL,
    kind              smallint NOT NULL,
    day               date NOT NULL,
    level             int NOT NULL,
    channel           text NOT NULL,
    sent              bigint NOT NULL DEFAULT 0,
    reminded_invoices bigint NOT NULL DEFAULT 0,
    paid_7d           bigint NOT NULL DEFAULT 0,
    paid_14d          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, currency, country, kind, day, level, channel)
);

-- What one action on a channel costs (postage, SMS gateway, a collector's
-- time on the phone, an agency's hand-off fee), in minor units of the
-- reminded invoices' currency. tenant '*' holds the defaults; a tenant's
-- own row overrides the default of its channel.
CREATE TABLE rpt_channel_costs (
    tenant      text NOT NULL,
    channel     text NOT NULL,
    cost_minor  bigint NOT NULL CHECK (cost_minor >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, channel)
);
INSERT INTO rpt_channel_costs (tenant, channel, cost_minor) VALUES
    ('*', 'email', 5),          -- sending and bounce handling
    ('*', 'sms', 10),           -- gateway price of one message
    ('*', 'letter', 150),       -- printing and postage of a letter
    ('*', 'phone', 400),        -- about five minutes of a collector's time
    ('*', 'handoff', 2500),     -- an agency's or bailiff's opening fee
    ('*', 'unspecified', 0);

-- The 13-week cash-in forecast as it stood each week (services/reporting/
-- forecast.c takes it once a week, on the week's Monday or at the first
-- chance after): what risk then expected per week, so that the cash that
-- came in can be shown next to what was forecast. week_start: Monday of the
-- forecast week; week 14 ("later") starts taken_on + 91.
CREATE TABLE rpt_forecast_snapshots (
    tenant          text NOT NULL,
    taken_on        date NOT NULL,      -- a Monday
    currency        char(3) NOT NULL,
    week_start      date NOT NULL,
    expected_minor  bigint NOT NULL,
    invoices        bigint NOT NULL,
    PRIMARY KEY (tenant, taken_on, currency, week_start)
);
CREATE INDEX rpt_forecast_by_week ON rpt_forecast_snapshots (tenant, week_start, taken_on);
