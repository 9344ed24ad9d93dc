-- Every per-debtor table carries its debtor: (tenant, debtor_id) is the
-- distribution key of all of them (docs/scaling.md, "Distribution keys,
-- table by table"), so the schema can be hash-partitioned or distributed
-- (Citus, co-located on debtor_id) without a table that is reachable only
-- through its parent row.
--
-- The tables below had the tenant but no debtor column. Each gets
-- debtor_id, filled from its parent row (UPDATE ... FROM), then NOT NULL;
-- the services fill it on every insert from the row they already hold
-- (no extra query). Existing rows are rewritten once by the backfill; on a
-- large database run this migration at a quiet hour.
--
-- Indexes: none added. Every reader of these rows reaches them through
-- the parent (invoice, payment, credit note, plan, reminder, delivery),
-- whose (tenant, debtor_id) index finds the debtor's parents, and through
-- the child's index on the parent id (allocations_by_invoice,
-- reminder_items_reminder, primary keys ...). An index led by
-- (tenant, debtor_id) here would serve no query today and would cost one
-- more b-tree insert per allocation, instalment and reminder item, i.e. in
-- intake's and the dunning pass's hot writes. A distributing engine needs
-- the column, not an index on it.
--
-- Grants: creance_app's privileges are table-level (0060, 0070, 0090), so
-- the new columns are readable and writable by it like the others.

ALTER TABLE allocations              ADD COLUMN debtor_id bigint;
ALTER TABLE credit_note_applications ADD COLUMN debtor_id bigint;
ALTER TABLE invoice_adjustments      ADD COLUMN debtor_id bigint;
ALTER TABLE payment_refunds          ADD COLUMN debtor_id bigint;
ALTER TABLE plan_instalments         ADD COLUMN debtor_id bigint;
ALTER TABLE rem_invoices             ADD COLUMN debtor_id bigint;
ALTER TABLE rem_disputes             ADD COLUMN debtor_id bigint;
ALTER TABLE rem_plan_instalments     ADD COLUMN debtor_id bigint;
ALTER TABLE reminder_items           ADD COLUMN debtor_id bigint;
ALTER TABLE reminder_instalments     ADD COLUMN debtor_id bigint;
ALTER TABLE reminder_deliveries      ADD COLUMN debtor_id bigint;
ALTER TABLE reminder_fees            ADD COLUMN debtor_id bigint;
ALTER TABLE rpt_disputes             ADD COLUMN debtor_id bigint;
ALTER TABLE rpt_reminded             ADD COLUMN debtor_id bigint;
ALTER TABLE gdpr_file_purges         ADD COLUMN debtor_id bigint;

-- Intake's ledger: from the payment, credit note, invoice or plan. A
-- payment or credit note only ever pays invoices of its own debtor.
UPDATE allocations x SET debtor_id = p.debtor_id FROM payments p
 WHERE p.tenant = x.tenant AND p.id = x.payment_id;
UPDATE credit_note_applications x SET debtor_id = c.debtor_id FROM credit_notes c
 WHERE c.tenant = x.tenant AND c.id = x.credit_note_id;
UPDATE invoice_adjustments x SET debtor_id = i.debtor_id FROM invoices i
 WHERE i.tenant = x.tenant AND i.id = x.invoice_id;
UPDATE payment_refunds x SET debtor_id = p.debtor_id FROM payments p
 WHERE p.tenant = x.tenant AND p.id = x.payment_id;
UPDATE plan_instalments x SET debtor_id = p.debtor_id FROM payment_plans p
 WHERE p.tenant = x.tenant AND p.id = x.plan_id;

-- Reminders' copies: from the ledger row the event described (as 0035
-- filled rem_invoices), or from reminders' own plan or reminder.
UPDATE rem_invoices x SET debtor_id = i.debtor_id FROM invoices i
 WHERE i.tenant = x.tenant AND i.id = x.invoice_id;
UPDATE rem_disputes x SET debtor_id = d.debtor_id FROM disputes d
 WHERE d.tenant = x.tenant AND d.id = x.dispute_id;
UPDATE rem_plan_instalments x SET debtor_id = p.debtor_id FROM rem_plans p
 WHERE p.tenant = x.tenant AND p.plan_id = x.plan_id;
UPDATE reminder_items x SET debtor_id = r.debtor_id FROM reminders r
 WHERE r.tenant = x.tenant AND r.id = x.reminder_id;
UPDATE reminder_instalments x SET debtor_id = r.debtor_id FROM reminders r
 WHERE r.tenant = x.tenant AND r.id = x.reminder_id;
UPDATE reminder_deliveries x SET debtor_id = r.debtor_id FROM reminders r
 WHERE r.tenant = x.tenant AND r.id = x.reminder_id;
UPDATE reminder_fees x SET debtor_id = r.debtor_id FROM reminders r
 WHERE r.tenant = x.tenant AND r.id = x.reminder_id;

-- Reporting's copies: from its own invoice and reminder rows.
UPDATE rpt_disputes x SET debtor_id = i.debtor_id FROM rpt_invoices i
 WHERE i.tenant = x.tenant AND i.invoice_id = x.invoice_id;
UPDATE rpt_reminded x SET debtor_id = m.debtor_id FROM rpt_reminders m
 WHERE m.tenant = x.tenant AND m.reminder_id = x.reminder_id;

-- Letters' files waiting for deletion: from their delivery (filled above).
UPDATE gdpr_file_purges x SET debtor_id = d.debtor_id FROM reminder_deliveries d
 WHERE d.tenant = x.tenant AND d.id = x.delivery_id;

-- A row whose parent is gone would stop the migration here ("column
-- debtor_id ... contains null values"), which is wanted: it names the
-- table, and guessing a debtor would put the row on the wrong shard.
ALTER TABLE allocations              ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE credit_note_applications ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE invoice_adjustments      ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE payment_refunds          ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE plan_instalments         ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE rem_invoices             ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE rem_disputes             ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE rem_plan_instalments     ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE reminder_items           ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE reminder_instalments     ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE reminder_deliveries      ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE reminder_fees            ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE rpt_disputes             ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE rpt_reminded             ALTER COLUMN debtor_id SET NOT NULL;
ALTER TABLE gdpr_file_purges         ALTER COLUMN debtor_id SET NOT NULL;
