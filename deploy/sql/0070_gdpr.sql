-- Personal data (GDPR): erasure by pseudonymisation, retention periods.
--
-- A debtor's personal data lives in: debtors (legal_name, company_id, email,
-- phone, address), reminders' copy rem_debtors, reporting's copy
-- rpt_debtors (and its trigram index, 0050), the reminders' deliveries
-- (recipient, subject, content as sent, last_error), the phone worklist
-- (phone, note), free-text reasons (disputes, invoice_adjustments,
-- invoices.cancel_reason, payments.reversal_reason, write_offs,
-- credit_notes), intake_items' content hash of the debtor fact, Stripe's
-- kept answers (stripe_events), the letters' PDF files in reminders'
-- outbox folder, and the event_log envelopes (DebtorCreated/Updated carry
-- the name, e-mail, phone and address; reasons and delivery errors may name
-- people). Erasure (services/reporting/erase.c) rewrites all of them in one
-- transaction and keeps every amount, date, number and id: the ledger
-- totals and the KPIs do not move.

-- When the debtor's personal data was erased; NULL while it is kept.
-- Intake refuses to record personal data for an erased debtor again.
ALTER TABLE debtors ADD COLUMN erased_at timestamptz;

-- The services' copies say it too, so that they never contact the debtor
-- again (reminders) and can tell a pseudonym from a name (reporting).
ALTER TABLE rem_debtors ADD COLUMN erased boolean NOT NULL DEFAULT false;
ALTER TABLE rpt_debtors ADD COLUMN erased boolean NOT NULL DEFAULT false;

-- When a delivery's recipient, subject and content were blanked (erasure
-- or retention); NULL while they are kept as sent (audit).
ALTER TABLE reminder_deliveries ADD COLUMN content_purged_at timestamptz;

-- Retention periods, per tenant; the row whose tenant is NULL is the
-- default for tenants without their own.
--   personal_data_years    a debtor with nothing open (no open invoice,
--                          dispute, plan or promise) and no ledger activity
--                          for this many years is pseudonymised (CNIL
--                          recommends 3 years after the end of the
--                          business relationship for customer data;
--                          accounting amounts are kept, 10 years in France)
--   raw_payload_days       kept webhook answers (stripe_events) older than
--                          this are deleted (Stripe stops redelivering
--                          after 3 days; intake_items keeps idempotency)
--   reminder_content_days  delivered reminders' recipient, subject and
--                          content, worklist notes and the outbox's PDF
--                          files older than this are purged (the proof of a
--                          formal notice may be needed for a year)
CREATE TABLE gdpr_retention (
    tenant                 text REFERENCES tenants(id),
    personal_data_years    integer NOT NULL DEFAULT 3 CHECK (personal_data_years BETWEEN 1 AND 100),
    raw_payload_days       integer NOT NULL DEFAULT 90 CHECK (raw_payload_days BETWEEN 1 AND 36500),
    reminder_content_days  integer NOT NULL DEFAULT 365
                           CHECK (reminder_content_days BETWEEN 1 AND 36500),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX gdpr_retention_tenant ON gdpr_retention ((COALESCE(tenant, '')));
INSERT INTO gdpr_retention (tenant) VALUES (NULL);

-- What was erased, when and why: the audit trail, without personal data.
CREATE TABLE gdpr_erasures (
    tenant            text NOT NULL,
    debtor_id         bigint NOT NULL,
    erased_at         timestamptz NOT NULL DEFAULT now(),
    trigger           text NOT NULL CHECK (trigger IN ('request', 'retention')),
    forced            boolean NOT NULL DEFAULT false,
    rows_changed      bigint NOT NULL DEFAULT 0,
    events_rewritten  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, debtor_id)
);

-- Letters' PDF files to delete from reminders' outbox folder. The folder
-- belongs to reminders (it may be on another host than reporting): the
-- erasure and the retention pass queue the files here in their
-- transaction, and reminders deletes them on its next delivery tick.
CREATE TABLE gdpr_file_purges (
    tenant       text NOT NULL,
    delivery_id  bigint NOT NULL,
    file         text NOT NULL CHECK (file <> '' AND file !~ '/'),
    queued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, delivery_id)
);

-- The retention pass looks for delivered content still kept, oldest first.
CREATE INDEX reminder_deliveries_content_kept ON reminder_deliveries (created_at)
    WHERE content_purged_at IS NULL AND status IN ('sent', 'failed', 'bounced');
-- Retention candidates: debtors not erased yet.
CREATE INDEX debtors_not_erased ON debtors (tenant, id) WHERE erased_at IS NULL;
-- Stripe answers by age.
CREATE INDEX stripe_events_created ON stripe_events (created_at);

-- 0060's default privileges give creance_app rows of the new tables; said
-- again here so the grant does not depend on who ran 0060.
GRANT SELECT, INSERT, UPDATE, DELETE ON gdpr_retention, gdpr_erasures, gdpr_file_purges
    TO creance_app;
