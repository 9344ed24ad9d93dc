-- Risk's own state, rebuilt into Redis on demand. One row per debtor and
-- currency (a debtor is almost always billed in one currency).
CREATE TABLE risk_debtor_state (
    tenant             text NOT NULL,
    debtor_id          bigint NOT NULL,
    currency           char(3) NOT NULL,
    outstanding_minor  bigint NOT NULL DEFAULT 0,
    open_invoices      integer NOT NULL DEFAULT 0,
    events_applied     bigint NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, debtor_id, currency)
);
