-- Intake's watcher (services/intake/watch.c) decides the outcome of
-- promises and plan instalments from the ledger. Each row gets exactly one
-- outcome: the status moves away from 'open' / 'due' / 'active' once, in the
-- same transaction as its event, under a WHERE status = ... guard. The day
-- the outcome took effect is kept beside the status for reporting
-- (promise-kept rate, plan adherence).

ALTER TABLE promises ADD COLUMN resolved_date date;
ALTER TABLE plan_instalments ADD COLUMN resolved_date date;
ALTER TABLE payment_plans ADD COLUMN ended_date date;

-- The watcher only ever reads what is still undecided.
CREATE INDEX promises_open ON promises (tenant, debtor_id) WHERE status = 'open';
CREATE INDEX payment_plans_active ON payment_plans (tenant, debtor_id) WHERE status = 'active';
-- Payments of one debtor in date order: the running sums of the watcher.
CREATE INDEX payments_by_debtor_date ON payments (tenant, debtor_id, received_date, id);
