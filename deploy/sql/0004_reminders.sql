-- Reminders' view of what is open: one row per open invoice, enough to
-- decide which level is due without reading the ledger's tables.
CREATE TABLE rem_open_items (
    tenant       text NOT NULL,
    invoice_id   bigint NOT NULL,
    debtor_id    bigint NOT NULL,
    due_date     date NOT NULL,
    currency     char(3) NOT NULL,
    open_minor   bigint NOT NULL,
    disputed     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, invoice_id)
);
CREATE INDEX rem_open_items_due ON rem_open_items (tenant, due_date);
