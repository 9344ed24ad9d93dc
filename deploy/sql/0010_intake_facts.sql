-- Intake, phase 2: the facts beyond invoices and payments (adjustments,
-- credit notes, reversals, write-offs, payment plans, promises) and the
-- webhook inputs (per-tenant secrets, Stripe deliveries already answered).

CREATE TABLE invoice_adjustments (
    tenant             text NOT NULL,
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    invoice_id         bigint NOT NULL,
    source             text NOT NULL,
    external_id        text NOT NULL,
    currency           char(3) NOT NULL,
    old_amount_minor   bigint NOT NULL,
    new_amount_minor   bigint NOT NULL,
    old_open_minor     bigint NOT NULL,
    new_open_minor     bigint NOT NULL,
    old_due_date       date NOT NULL,
    new_due_date       date NOT NULL,
    reason             text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);

ALTER TABLE invoices ADD COLUMN cancelled_date date;
ALTER TABLE invoices ADD COLUMN cancel_reason text;

-- A credit note's amount goes first to its invoice (if any); the rest is
-- unapplied credit, as a payment's is.
CREATE TABLE credit_notes (
    tenant           text NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id        bigint NOT NULL,
    invoice_id       bigint,
    source           text NOT NULL,
    external_id      text NOT NULL,
    number           text NOT NULL DEFAULT '',
    issue_date       date NOT NULL,
    currency         char(3) NOT NULL,
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    applied_minor    bigint NOT NULL CHECK (applied_minor >= 0),
    unapplied_minor  bigint NOT NULL CHECK (unapplied_minor >= 0),
    reason           text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    CHECK (applied_minor + unapplied_minor = amount_minor),
    FOREIGN KEY (tenant, debtor_id) REFERENCES debtors (tenant, id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);

-- A reversal deletes the payment's allocations (PaymentReversed in
-- event_log lists them) and keeps when and why here.
ALTER TABLE payments ADD COLUMN reversed_date date;
ALTER TABLE payments ADD COLUMN reversal_reason text;
-- Unapplied credit is consumed oldest first when a new invoice arrives.
CREATE INDEX payments_unapplied_by_debtor ON payments (tenant, debtor_id, received_date, id)
    WHERE unapplied_minor > 0;

CREATE TABLE write_offs (
    tenant        text NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    invoice_id    bigint NOT NULL,
    debtor_id     bigint NOT NULL,
    source        text NOT NULL,
    external_id   text NOT NULL,
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    date          date NOT NULL,
    reason        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);

CREATE TABLE payment_plans (
    tenant        text NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id     bigint NOT NULL,
    source        text NOT NULL,
    external_id   text NOT NULL,
    agreed_date   date NOT NULL,
    currency      char(3) NOT NULL,
    total_minor   bigint NOT NULL CHECK (total_minor > 0),
    invoice_ids   bigint[] NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'completed', 'defaulted', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, debtor_id) REFERENCES debtors (tenant, id)
);

CREATE TABLE plan_instalments (
    tenant        text NOT NULL,
    plan_id       bigint NOT NULL,
    number        integer NOT NULL CHECK (number > 0),
    due_date      date NOT NULL,
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    paid_minor    bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    status        text NOT NULL DEFAULT 'due'
                  CHECK (status IN ('due', 'paid', 'missed')),
    PRIMARY KEY (tenant, plan_id, number),
    FOREIGN KEY (tenant, plan_id) REFERENCES payment_plans (tenant, id)
);

CREATE TABLE promises (
    tenant         text NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id      bigint NOT NULL,
    source         text NOT NULL,
    external_id    text NOT NULL,
    currency       char(3) NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    promised_date  date NOT NULL,
    invoice_ids    bigint[] NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'kept', 'broken')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, debtor_id) REFERENCES debtors (tenant, id)
);

-- Webhook signing secrets. Unlike api_tokens these are stored as given, not
-- hashed: verifying an HMAC needs the key itself. Never logged (masked).
-- kind 'creance' signs POST /api/v1/intake, 'stripe' is a Stripe endpoint
-- secret (whsec_...). Several active secrets per kind allow a rotation.
CREATE TABLE webhook_secrets (
    tenant      text NOT NULL REFERENCES tenants(id),
    kind        text NOT NULL CHECK (kind IN ('creance', 'stripe')),
    secret      text NOT NULL CHECK (length(secret) >= 16),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (tenant, kind, secret)
);

-- Stripe redelivers an event until it gets a 2xx, and may deliver twice:
-- the answer given to an event id is kept and given again.
CREATE TABLE stripe_events (
    tenant       text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, event_id)
);
