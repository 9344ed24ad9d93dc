-- Reporting's aggregates, maintained incrementally from events so that a
-- KPI query reads one row instead of scanning the ledger.
CREATE TABLE rpt_totals (
    tenant              text NOT NULL,
    currency            char(3) NOT NULL,
    invoiced_minor      bigint NOT NULL DEFAULT 0,
    collected_minor     bigint NOT NULL DEFAULT 0,
    outstanding_minor   bigint NOT NULL DEFAULT 0,
    invoice_count       bigint NOT NULL DEFAULT 0,
    payment_count       bigint NOT NULL DEFAULT 0,
    open_disputes       bigint NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, currency)
);
