-- Reminders: dunning policies, contact rules, pauses, the outbox of
-- decisions and its deliveries (issue 5).
--
-- The guard of DESIGN.md rule 5 is reminder_items' UNIQUE (tenant,
-- invoice_id, level): a decision is one row in `reminders` plus one row per
-- invoice it covers, written in one transaction before anything is sent,
-- with ON CONFLICT DO NOTHING, so a re-run of the pass (or a crash and a
-- restart) can never decide the same (invoice, level) twice. Deliveries
-- carry the idempotency key the channel sees.

-- ------------------------------------------------------------ policies

-- A ladder is the set of rows sharing (tenant, grade). tenant NULL: the
-- default ladder of every tenant; grade NULL: any risk grade. The pass
-- picks the most specific ladder: (tenant, grade), (tenant, NULL),
-- (NULL, grade), (NULL, NULL).
CREATE TABLE rem_policy_levels (
    tenant        text REFERENCES tenants(id),
    grade         text CHECK (grade IS NULL OR grade ~ '^[A-E]$'),
    level         smallint NOT NULL CHECK (level BETWEEN 1 AND 20),
    offset_days   integer NOT NULL CHECK (offset_days BETWEEN -90 AND 3650),
    channel       text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'phone', 'handoff')),
    -- Channels tried, in order, when `channel` is opted out, bounced or
    -- failed for good.
    fallback      text[] NOT NULL DEFAULT '{}',
    -- render.h's message kind: courtesy, friendly, firm, phone_script,
    -- formal_notice, handoff.
    template_key  text NOT NULL,
    tone          text NOT NULL CHECK (tone IN ('courtesy', 'friendly', 'firm', 'formal', 'legal')),
    -- A fee added once per (invoice, level) when this level is decided.
    fee_minor     bigint NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    UNIQUE NULLS NOT DISTINCT (tenant, grade, level)
);

INSERT INTO rem_policy_levels (tenant, grade, level, offset_days, channel, fallback, template_key, tone) VALUES
    (NULL, NULL, 1,  -5, 'email',   '{sms,letter}', 'courtesy',         'courtesy'),
    (NULL, NULL, 2,   1, 'email',   '{sms,letter}', 'friendly',         'friendly'),
    (NULL, NULL, 3,  10, 'email',   '{letter}',     'firm',             'firm'),
    (NULL, NULL, 4,  20, 'phone',   '{email}',      'phone_script',     'firm'),
    (NULL, NULL, 5,  30, 'letter',  '{email}',      'formal_notice',    'formal'),
    (NULL, NULL, 6,  45, 'handoff', '{}',           'handoff',          'legal'),
    -- Riskier debtors (grades D and E) take a faster ladder.
    (NULL, 'D', 1,  -5, 'email',   '{sms,letter}', 'courtesy',         'courtesy'),
    (NULL, 'D', 2,   1, 'email',   '{sms,letter}', 'friendly',         'friendly'),
    (NULL, 'D', 3,   7, 'email',   '{letter}',     'firm',             'firm'),
    (NULL, 'D', 4,  12, 'phone',   '{email}',      'phone_script',     'firm'),
    (NULL, 'D', 5,  20, 'letter',  '{email}',      'formal_notice',    'formal'),
    (NULL, 'D', 6,  30, 'handoff', '{}',           'handoff',          'legal'),
    (NULL, 'E', 1,  -7, 'email',   '{sms,letter}', 'courtesy',         'courtesy'),
    (NULL, 'E', 2,   1, 'email',   '{sms,letter}', 'firm',             'firm'),
    (NULL, 'E', 3,   5, 'phone',   '{email}',      'phone_script',     'firm'),
    (NULL, 'E', 4,  10, 'letter',  '{email}',      'formal_notice',    'formal'),
    (NULL, 'E', 5,  20, 'handoff', '{}',           'handoff',          'legal');

-- Contact rules; tenant NULL is the default row.
CREATE TABLE rem_contact_rules (
    tenant                   text REFERENCES tenants(id),
    min_days_between         integer NOT NULL DEFAULT 3 CHECK (min_days_between >= 0),
    max_per_7_days           integer NOT NULL DEFAULT 2 CHECK (max_per_7_days >= 1),
    -- Local time of the debtor: no contact in [quiet_start, quiet_end)
    -- (wrapping over midnight when quiet_start > quiet_end).
    quiet_start              time NOT NULL DEFAULT '20:00',
    quiet_end                time NOT NULL DEFAULT '08:00',
    skip_weekends            boolean NOT NULL DEFAULT true,
    skip_holidays            boolean NOT NULL DEFAULT true,
    promise_grace_days       integer NOT NULL DEFAULT 3 CHECK (promise_grace_days >= 0),
    instalment_notice_days   integer NOT NULL DEFAULT 3 CHECK (instalment_notice_days >= 0),
    limitation_warning_days  integer NOT NULL DEFAULT 90 CHECK (limitation_warning_days >= 0),
    UNIQUE NULLS NOT DISTINCT (tenant)
);
INSERT INTO rem_contact_rules (tenant) VALUES (NULL);

-- Public holidays per country (national days; regional ones are not here).
CREATE TABLE rem_holidays (
    country  char(2) NOT NULL,
    day      date NOT NULL,
    name     text NOT NULL,
    PRIMARY KEY (country, day)
);

INSERT INTO rem_holidays (country, day, name) VALUES
    ('BE', '2025-01-01', 'Nieuwjaar / Jour de l''an'),
    ('BE', '2025-04-21', 'Paasmaandag / Lundi de Pâques'),
    ('BE', '2025-05-01', 'Dag van de Arbeid / Fête du Travail'),
    ('BE', '2025-05-29', 'O.H. Hemelvaart / Ascension'),
    ('BE', '2025-06-09', 'Pinkstermaandag / Lundi de Pentecôte'),
    ('BE', '2025-07-21', 'Nationale feestdag / Fête nationale'),
    ('BE', '2025-08-15', 'O.L.V. Hemelvaart / Assomption'),
    ('BE', '2025-11-01', 'Allerheiligen / Toussaint'),
    ('BE', '2025-11-11', 'Wapenstilstand / Armistice'),
    ('BE', '2025-12-25', 'Kerstmis / Noël'),
    ('BE', '2026-01-01', 'Nieuwjaar / Jour de l''an'),
    ('BE', '2026-04-06', 'Paasmaandag / Lundi de Pâques'),
    ('BE', '2026-05-01', 'Dag van de Arbeid / Fête du Travail'),
    ('BE', '2026-05-14', 'O.H. Hemelvaart / Ascension'),
    ('BE', '2026-05-25', 'Pinkstermaandag / Lundi de Pentecôte'),
    ('BE', '2026-07-21', 'Nationale feestdag / Fête nationale'),
    ('BE', '2026-08-15', 'O.L.V. Hemelvaart / Assomption'),
    ('BE', '2026-11-01', 'Allerheiligen / Toussaint'),
    ('BE', '2026-11-11', 'Wapenstilstand / Armistice'),
    ('BE', '2026-12-25', 'Kerstmis / Noël'),
    ('BE', '2027-01-01', 'Nieuwjaar / Jour de l''an'),
    ('BE', '2027-03-29', 'Paasmaandag / Lundi de Pâques'),
    ('BE', '2027-05-01', 'Dag van de Arbeid / Fête du Travail'),
    ('BE', '2027-05-06', 'O.H. Hemelvaart / Ascension'),
    ('BE', '2027-05-17', 'Pinkstermaandag / Lundi de Pentecôte'),
    ('BE', '2027-07-21', 'Nationale feestdag / Fête nationale'),
    ('BE', '2027-08-15', 'O.L.V. Hemelvaart / Assomption'),
    ('BE', '2027-11-01', 'Allerheiligen / Toussaint'),
    ('BE', '2027-11-11', 'Wapenstilstand / Armistice'),
    ('BE', '2027-12-25', 'Kerstmis / Noël'),
    ('DE', '2025-01-01', 'Neujahr'),
    ('DE', '2025-04-18', 'Karfreitag'),
    ('DE', '2025-04-21', 'Ostermontag'),
    ('DE', '2025-05-01', 'Tag der Arbeit'),
    ('DE', '2025-05-29', 'Christi Himmelfahrt'),
    ('DE', '2025-06-09', 'Pfingstmontag'),
    ('DE', '2025-10-03', 'Tag der Deutschen Einheit'),
    ('DE', '2025-12-25', '1. Weihnachtstag'),
    ('DE', '2025-12-26', '2. Weihnachtstag'),
    ('DE', '2026-01-01', 'Neujahr'),
    ('DE', '2026-04-03', 'Karfreitag'),
    ('DE', '2026-04-06', 'Ostermontag'),
    ('DE', '2026-05-01', 'Tag der Arbeit'),
    ('DE', '2026-05-14', 'Christi Himmelfahrt'),
    ('DE', '2026-05-25', 'Pfingstmontag'),
    ('DE', '2026-10-03', 'Tag der Deutschen Einheit'),
    ('DE', '2026-12-25', '1. Weihnachtstag'),
    ('DE', '2026-12-26', '2. Weihnachtstag'),
    ('DE', '2027-01-01', 'Neujahr'),
    ('DE', '2027-03-26', 'Karfreitag'),
    ('DE', '2027-03-29', 'Ostermontag'),
    ('DE', '2027-05-01', 'Tag der Arbeit'),
    ('DE', '2027-05-06', 'Christi Himmelfahrt'),
    ('DE', '2027-05-17', 'Pfingstmontag'),
    ('DE', '2027-10-03', 'Tag der Deutschen Einheit'),
    ('DE', '2027-12-25', '1. Weihnachtstag'),
    ('DE', '2027-12-26', '2. Weihnachtstag'),
    ('ES', '2025-01-01', 'Año Nuevo'),
    ('ES', '2025-01-06', 'Epifanía del Señor'),
    ('ES', '2025-04-18', 'Viernes Santo'),
    ('ES', '2025-05-01', 'Fiesta del Trabajo'),
    ('ES', '2025-08-15', 'Asunción de la Virgen'),
    ('ES', '2025-10-12', 'Fiesta Nacional de España'),
    ('ES', '2025-11-01', 'Todos los Santos'),
    ('ES', '2025-12-06', 'Día de la Constitución'),
    ('ES', '2025-12-08', 'Inmaculada Concepción'),
    ('ES', '2025-12-25', 'Natividad del Señor'),
    ('ES', '2026-01-01', 'Año Nuevo'),
    ('ES', '2026-01-06', 'Epifanía del Señor'),
    ('ES', '2026-04-03', 'Viernes Santo'),
    ('ES', '2026-05-01', 'Fiesta del Trabajo'),
    ('ES', '2026-08-15', 'Asunción de la Virgen'),
    ('ES', '2026-10-12', 'Fiesta Nacional de España'),
    ('ES', '2026-11-01', 'Todos los Santos'),
    ('ES', '2026-12-06', 'Día de la Constitución'),
    ('ES', '2026-12-08', 'Inmaculada Concepción'),
    ('ES', '2026-12-25', 'Natividad del Señor'),
    ('ES', '2027-01-01', 'Año Nuevo'),
    ('ES', '2027-01-06', 'Epifanía del Señor'),
    ('ES', '2027-03-26', 'Viernes Santo'),
    ('ES', '2027-05-01', 'Fiesta del Trabajo'),
    ('ES', '2027-08-15', 'Asunción de la Virgen'),
    ('ES', '2027-10-12', 'Fiesta Nacional de España'),
    ('ES', '2027-11-01', 'Todos los Santos'),
    ('ES', '2027-12-06', 'Día de la Constitución'),
    ('ES', '2027-12-08', 'Inmaculada Concepción'),
    ('ES', '2027-12-25', 'Natividad del Señor'),
    ('FR', '2025-01-01', 'Jour de l''an'),
    ('FR', '2025-04-21', 'Lundi de Pâques'),
    ('FR', '2025-05-01', 'Fête du Travail'),
    ('FR', '2025-05-08', 'Victoire 1945'),
    ('FR', '2025-05-29', 'Ascension'),
    ('FR', '2025-06-09', 'Lundi de Pentecôte'),
    ('FR', '2025-07-14', 'Fête nationale'),
    ('FR', '2025-08-15', 'Assomption'),
    ('FR', '2025-11-01', 'Toussaint'),
    ('FR', '2025-11-11', 'Armistice'),
    ('FR', '2025-12-25', 'Noël'),
    ('FR', '2026-01-01', 'Jour de l''an'),
    ('FR', '2026-04-06', 'Lundi de Pâques'),
    ('FR', '2026-05-01', 'Fête du Travail'),
    ('FR', '2026-05-08', 'Victoire 1945'),
    ('FR', '2026-05-14', 'Ascension'),
    ('FR', '2026-05-25', 'Lundi de Pentecôte'),
    ('FR', '2026-07-14', 'Fête nationale'),
    ('FR', '2026-08-15', 'Assomption'),
    ('FR', '2026-11-01', 'Toussaint'),
    ('FR', '2026-11-11', 'Armistice'),
    ('FR', '2026-12-25', 'Noël'),
    ('FR', '2027-01-01', 'Jour de l''an'),
    ('FR', '2027-03-29', 'Lundi de Pâques'),
    ('FR', '2027-05-01', 'Fête du Travail'),
    ('FR', '2027-05-06', 'Ascension'),
    ('FR', '2027-05-08', 'Victoire 1945'),
    ('FR', '2027-05-17', 'Lundi de Pentecôte'),
    ('FR', '2027-07-14', 'Fête nationale'),
    ('FR', '2027-08-15', 'Assomption'),
    ('FR', '2027-11-01', 'Toussaint'),
    ('FR', '2027-11-11', 'Armistice'),
    ('FR', '2027-12-25', 'Noël'),
    ('GB', '2025-01-01', 'New Year''s Day'),
    ('GB', '2025-04-18', 'Good Friday'),
    ('GB', '2025-04-21', 'Easter Monday'),
    ('GB', '2025-05-05', 'Early May bank holiday'),
    ('GB', '2025-05-26', 'Spring bank holiday'),
    ('GB', '2025-08-25', 'Summer bank holiday'),
    ('GB', '2025-12-25', 'Christmas Day'),
    ('GB', '2025-12-26', 'Boxing Day'),
    ('GB', '2026-01-01', 'New Year''s Day'),
    ('GB', '2026-04-03', 'Good Friday'),
    ('GB', '2026-04-06', 'Easter Monday'),
    ('GB', '2026-05-04', 'Early May bank holiday'),
    ('GB', '2026-05-25', 'Spring bank holiday'),
    ('GB', '2026-08-31', 'Summer bank holiday'),
    ('GB', '2026-12-25', 'Christmas Day'),
    ('GB', '2026-12-28', 'Boxing Day (substitute day)'),
    ('GB', '2027-01-01', 'New Year''s Day'),
    ('GB', '2027-03-26', 'Good Friday'),
    ('GB', '2027-03-29', 'Easter Monday'),
    ('GB', '2027-05-03', 'Early May bank holiday'),
    ('GB', '2027-05-31', 'Spring bank holiday'),
    ('GB', '2027-08-30', 'Summer bank holiday'),
    ('GB', '2027-12-27', 'Christmas Day (substitute day)'),
    ('GB', '2027-12-28', 'Boxing Day (substitute day)');

-- ------------------------------------------------------------ debtors and pauses

-- Reminders' copy of what it needs about a debtor, kept from DebtorCreated /
-- DebtorUpdated (ledger) and RiskScored (risk); back-filled from the ledger
-- for debtors created before this migration.
CREATE TABLE rem_debtors (
    tenant      text NOT NULL,
    debtor_id   bigint NOT NULL,
    legal_name  text NOT NULL DEFAULT '',
    kind        smallint NOT NULL DEFAULT 1,      -- 1 business, 2 consumer
    country     char(2) NOT NULL DEFAULT 'FR',
    language    text NOT NULL DEFAULT 'fr',
    time_zone   text NOT NULL DEFAULT 'Europe/Paris',
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    address     jsonb NOT NULL DEFAULT '{}',
    grade       text,
    PRIMARY KEY (tenant, debtor_id)
);
INSERT INTO rem_debtors (tenant, debtor_id, legal_name, kind, country, language, time_zone, email, phone, address)
SELECT tenant, id, legal_name, kind, country, language, time_zone, email, phone, address FROM debtors;

-- What messages say about an invoice (never deleted, unlike open items).
CREATE TABLE rem_invoices (
    tenant        text NOT NULL,
    invoice_id    bigint NOT NULL,
    number        text NOT NULL,
    issue_date    date NOT NULL,
    amount_minor  bigint NOT NULL,
    PRIMARY KEY (tenant, invoice_id)
);
INSERT INTO rem_invoices (tenant, invoice_id, number, issue_date, amount_minor)
SELECT tenant, id, number, issue_date, amount_minor FROM invoices;

-- The creditor's side of a message (letterhead, how to pay, and the
-- country whose late-payment law applies). No row: the tenant's name and FR.
CREATE TABLE rem_creditors (
    tenant       text PRIMARY KEY REFERENCES tenants(id),
    legal_name   text NOT NULL,
    company_id   text NOT NULL DEFAULT '',
    country      char(2) NOT NULL DEFAULT 'FR',
    street       text NOT NULL DEFAULT '',
    postal_code  text NOT NULL DEFAULT '',
    city         text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    iban         text NOT NULL DEFAULT '',
    bic          text NOT NULL DEFAULT '',
    signatory    text NOT NULL DEFAULT '',
    pay_url      text NOT NULL DEFAULT ''
);

-- A debtor's opt-out of a channel (reason 'debtor'), or an e-mail address
-- that bounced (reason 'bounce'): the pass and the delivery fall back.
CREATE TABLE rem_optouts (
    tenant      text NOT NULL,
    debtor_id   bigint NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'phone')),
    reason      text NOT NULL DEFAULT 'debtor' CHECK (reason IN ('debtor', 'bounce')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, debtor_id, channel)
);

-- Pauses as state on the open item:
--   disputed_minor  sum of the open disputes (rem_disputes); only the rest
--                   is dunned, the invoice is left out when nothing is left;
--   plan_id         an active payment plan holds the invoice;
--   promise_until   the promised date of a promise to pay: held until
--                   this date plus the tenant's grace days;
--   min_level       escalation: a broken promise or a missed instalment
--                   asks for at least this level;
--   last_level      the highest level decided (mirror of reminder_items,
--                   written in the decision's transaction, so the pass reads
--                   one table).
ALTER TABLE rem_open_items
    ADD COLUMN disputed_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN plan_id bigint,
    ADD COLUMN promise_id bigint,
    ADD COLUMN promise_until date,
    ADD COLUMN min_level smallint NOT NULL DEFAULT 0,
    ADD COLUMN last_level smallint NOT NULL DEFAULT 0;
CREATE INDEX rem_open_items_debtor ON rem_open_items (tenant, debtor_id, invoice_id);

CREATE TABLE rem_disputes (
    tenant        text NOT NULL,
    dispute_id    bigint NOT NULL,
    invoice_id    bigint NOT NULL,
    amount_minor  bigint NOT NULL,
    open          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant, dispute_id)
);
CREATE INDEX rem_disputes_invoice ON rem_disputes (tenant, invoice_id) WHERE open;

CREATE TABLE rem_plans (
    tenant       text NOT NULL,
    plan_id      bigint NOT NULL,
    debtor_id    bigint NOT NULL,
    invoice_ids  bigint[] NOT NULL,
    status       text NOT NULL DEFAULT 'active'
                 CHECK (status IN ('active', 'missed', 'defaulted', 'completed')),
    agreed_date  date,
    PRIMARY KEY (tenant, plan_id)
);

CREATE TABLE rem_plan_instalments (
    tenant        text NOT NULL,
    plan_id       bigint NOT NULL,
    number        integer NOT NULL,
    due_date      date NOT NULL,
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'missed')),
    PRIMARY KEY (tenant, plan_id, number)
);

CREATE TABLE rem_promises (
    tenant         text NOT NULL,
    promise_id     bigint NOT NULL,
    debtor_id      bigint NOT NULL,
    invoice_ids    bigint[] NOT NULL DEFAULT '{}',
    promised_date  date NOT NULL,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'kept', 'broken')),
    PRIMARY KEY (tenant, promise_id)
);

-- ------------------------------------------------------------ the outbox

-- One row per decision: one message to one debtor at one level, listing
-- every invoice that reached it. Kept for good: the audit trail.
CREATE TABLE reminders (
    tenant         text NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    debtor_id      bigint NOT NULL,
    kind           text NOT NULL DEFAULT 'dunning' CHECK (kind IN ('dunning', 'instalment')),
    level          smallint NOT NULL,            -- 0 for instalment reminders
    channel        text NOT NULL,                -- the channel decided first
    fallback       text[] NOT NULL DEFAULT '{}', -- what is left to fall back to
    template_key   text NOT NULL,
    tone           text NOT NULL,
    invoice_ids    bigint[] NOT NULL,
    currency       char(3) NOT NULL,
    total_minor    bigint NOT NULL,              -- what the message asks for
    planned_date   date NOT NULL,
    reason         text NOT NULL DEFAULT '',     -- why, in words (preview, audit)
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'failed')),
    decided_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id)
);
CREATE INDEX reminders_debtor ON reminders (tenant, debtor_id, planned_date);
CREATE INDEX reminders_planned ON reminders (tenant, planned_date);

CREATE TABLE reminder_items (
    tenant          text NOT NULL,
    reminder_id     bigint NOT NULL,
    invoice_id      bigint NOT NULL,
    level           smallint NOT NULL,
    due_date        date NOT NULL,
    open_minor      bigint NOT NULL,
    disputed_minor  bigint NOT NULL DEFAULT 0,
    FOREIGN KEY (tenant, reminder_id) REFERENCES reminders (tenant, id),
    -- At most once per (invoice, level): DESIGN.md rule 5.
    UNIQUE (tenant, invoice_id, level)
);
CREATE INDEX reminder_items_reminder ON reminder_items (tenant, reminder_id);

-- An instalment of a plan is reminded at most once.
CREATE TABLE reminder_instalments (
    tenant       text NOT NULL,
    reminder_id  bigint NOT NULL,
    plan_id      bigint NOT NULL,
    number       integer NOT NULL,
    FOREIGN KEY (tenant, reminder_id) REFERENCES reminders (tenant, id),
    UNIQUE (tenant, plan_id, number)
);

-- One delivery per (reminder, channel): a fallback is a new row. The
-- idempotency key is what the channel sees (SMTP Message-ID, SMS
-- Idempotency-Key header, the letter's file name), the same on every retry.
CREATE TABLE reminder_deliveries (
    tenant               text NOT NULL,
    id                   bigint GENERATED ALWAYS AS IDENTITY,
    reminder_id          bigint NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'phone', 'handoff')),
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced')),
    attempts             integer NOT NULL DEFAULT 0,
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),
    idempotency_key      text NOT NULL,
    recipient            text NOT NULL DEFAULT '',
    subject              text NOT NULL DEFAULT '',
    content              text NOT NULL DEFAULT '',   -- as sent (audit)
    last_error           text NOT NULL DEFAULT '',
    provider_message_id  text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, reminder_id) REFERENCES reminders (tenant, id),
    UNIQUE (tenant, reminder_id, channel),
    UNIQUE (idempotency_key)
);
CREATE INDEX reminder_deliveries_due ON reminder_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending');

-- Fees, once per (invoice, level).
CREATE TABLE reminder_fees (
    tenant        text NOT NULL,
    invoice_id    bigint NOT NULL,
    level         smallint NOT NULL,
    reminder_id   bigint NOT NULL,
    currency      char(3) NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    kind          text NOT NULL DEFAULT 'fee',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, invoice_id, level)
);

-- The collectors' worklist: phone calls and hand-offs to do.
CREATE TABLE rem_worklist (
    tenant       text NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    reminder_id  bigint NOT NULL,
    debtor_id    bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('call', 'handoff')),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    due_date     date NOT NULL,
    phone        text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, reminder_id, kind)
);
