-- Credit notes' unapplied credit taken by later invoices, and partial
-- reversals of payments (partial refunds).

-- What a credit note's unapplied credit paid later: one row per invoice
-- that took some (credit_notes.applied_minor grows by the same amount, so
-- applied + unapplied = amount still holds). The immediate application to
-- the credit note's own invoice stays in credit_notes (invoice_id,
-- applied_minor at issue) as before.
CREATE TABLE credit_note_applications (
    tenant          text NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    credit_note_id  bigint NOT NULL,
    invoice_id      bigint NOT NULL,
    currency        char(3) NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, credit_note_id) REFERENCES credit_notes (tenant, id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);
CREATE INDEX credit_note_applications_by_invoice ON credit_note_applications (tenant, invoice_id);

-- A new invoice looks for its debtor's credit, oldest first.
CREATE INDEX credit_notes_unapplied_by_debtor ON credit_notes (tenant, debtor_id, issue_date, id)
    WHERE unapplied_minor > 0;

-- Partial reversals: the payment keeps amount_minor (what was received);
-- refunded_minor is what partial reversals took back, so that received =
-- allocated + unapplied + refunded while the payment stands. One refunded
-- to nothing is reversed (reversed_at set); a whole reversal takes what is
-- left and sets reversed_at without counting it here.
ALTER TABLE payments ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0
    CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor);

CREATE TABLE payment_refunds (
    tenant              text NOT NULL,
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    payment_id          bigint NOT NULL,
    source              text NOT NULL,
    external_id         text NOT NULL,
    currency            char(3) NOT NULL,
    amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
    unapplied_minor     bigint NOT NULL CHECK (unapplied_minor >= 0),  -- taken from the credit
    reversed_date       date NOT NULL,
    reason              text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    CHECK (unapplied_minor <= amount_minor),
    FOREIGN KEY (tenant, payment_id) REFERENCES payments (tenant, id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON credit_note_applications, payment_refunds TO creance_app;
