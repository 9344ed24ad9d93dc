-- Core ledger, the durable event log and consumers' positions.
-- Every table leads with `tenant`: it is the distribution key, and no query
-- crosses tenants. Money is bigint minor units beside a char(3) currency.

CREATE TABLE tenants (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API bearer tokens, stored as SHA-256 of the token: a leaked table does not
-- leak working tokens.
CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    tenant      text NOT NULL REFERENCES tenants(id),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE debtors (
    tenant                    text NOT NULL REFERENCES tenants(id),
    id                        bigint GENERATED ALWAYS AS IDENTITY,
    source                    text NOT NULL,
    external_id               text NOT NULL,
    legal_name                text NOT NULL,
    company_id                text NOT NULL DEFAULT '',
    kind                      smallint NOT NULL DEFAULT 1,  -- 1 business, 2 consumer
    country                   char(2) NOT NULL DEFAULT 'FR',
    language                  text NOT NULL DEFAULT 'fr',
    time_zone                 text NOT NULL DEFAULT 'Europe/Paris',
    email                     text NOT NULL DEFAULT '',
    phone                     text NOT NULL DEFAULT '',
    address                   jsonb NOT NULL DEFAULT '{}',
    currency                  char(3) NOT NULL DEFAULT 'EUR',
    credit_limit_minor        bigint NOT NULL DEFAULT 0,
    payment_terms_days        integer NOT NULL DEFAULT 30,
    current_assets_minor      bigint,
    current_liabilities_minor bigint,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id)
);

CREATE TABLE invoices (
    tenant        text NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id     bigint NOT NULL,
    source        text NOT NULL,
    external_id   text NOT NULL,
    number        text NOT NULL,
    issue_date    date NOT NULL,
    due_date      date NOT NULL CHECK (due_date >= issue_date),
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    open_minor    bigint NOT NULL CHECK (open_minor >= 0),
    terms_days    integer NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'paid', 'cancelled', 'written_off')),
    paid_date     date,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, debtor_id) REFERENCES debtors (tenant, id)
);
-- Oldest-due-first allocation and dunning read open invoices per debtor.
CREATE INDEX invoices_open_by_debtor ON invoices (tenant, debtor_id, due_date, id)
    WHERE open_minor > 0;

CREATE TABLE payments (
    tenant          text NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id       bigint NOT NULL,
    source          text NOT NULL,
    external_id     text NOT NULL,
    received_date   date NOT NULL,
    currency        char(3) NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    unapplied_minor bigint NOT NULL DEFAULT 0 CHECK (unapplied_minor >= 0),
    method          text NOT NULL DEFAULT '',
    reversed_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, debtor_id) REFERENCES debtors (tenant, id)
);

CREATE TABLE allocations (
    tenant        text NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    payment_id    bigint NOT NULL,
    invoice_id    bigint NOT NULL,
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, payment_id) REFERENCES payments (tenant, id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);
CREATE INDEX allocations_by_invoice ON allocations (tenant, invoice_id);

CREATE TABLE disputes (
    tenant         text NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id      bigint NOT NULL,
    invoice_id     bigint NOT NULL,
    source         text NOT NULL,
    external_id    text NOT NULL,
    currency       char(3) NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    reason         text NOT NULL DEFAULT '',
    opened_date    date NOT NULL,
    resolved_date  date,
    outcome        text,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, source, external_id),
    FOREIGN KEY (tenant, invoice_id) REFERENCES invoices (tenant, id)
);

-- Idempotency registry: one row per accepted external fact. A replay finds
-- its row and returns the first result; the same key with another content
-- hash is a conflict.
CREATE TABLE intake_items (
    tenant        text NOT NULL,
    source        text NOT NULL,
    kind          text NOT NULL,
    external_id   text NOT NULL,
    content_hash  bytea NOT NULL,
    result_id     bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, source, kind, external_id)
);

-- The durable event stream. `streams.last_seq` is bumped with a row lock
-- inside the producer's transaction, so a second writer to the same stream
-- waits for the first to commit: sequence numbers follow commit order and a
-- consumer catching up by "seq > last_applied" cannot skip a late commit.
CREATE TABLE streams (
    tenant    text NOT NULL,
    stream    text NOT NULL,
    last_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, stream)
);

CREATE TABLE event_log (
    tenant       text NOT NULL,
    stream       text NOT NULL,
    seq          bigint NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    producer     text NOT NULL,
    envelope     bytea NOT NULL,   -- the encoded creance.Envelope, as published
    PRIMARY KEY (tenant, stream, seq)
);

-- Each consumer's position per stream, written in the same transaction as
-- the consumer's own effects (effectively-once application).
CREATE TABLE consumer_positions (
    consumer      text NOT NULL,
    tenant        text NOT NULL,
    stream        text NOT NULL,
    last_applied  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, tenant, stream)
);
