-- Risk: per-invoice facts, debtor behaviour, the scorecard's policy, score
-- history and payment predictions (issue 4). All of it is risk's own state,
-- derived from the ledger stream; Redis copies risk_debtor_profile.snapshot.

-- Scorecard weights and thresholds per tenant. The row with tenant '*' holds
-- the defaults used by every tenant without its own row. Points are integer
-- penalties subtracted from `base`.
CREATE TABLE risk_policies (
    tenant                  text PRIMARY KEY,
    base                    integer NOT NULL DEFAULT 1000,
    overdue_ratio_max       integer NOT NULL DEFAULT 250,  -- x overdue/outstanding
    age_1_30                integer NOT NULL DEFAULT 50,   -- oldest overdue age buckets
    age_31_60               integer NOT NULL DEFAULT 120,
    age_61_90               integer NOT NULL DEFAULT 200,
    age_over_90             integer NOT NULL DEFAULT 300,
    days_late_per_day       integer NOT NULL DEFAULT 4,    -- x weighted average days late
    days_late_max           integer NOT NULL DEFAULT 200,
    broken_promise          integer NOT NULL DEFAULT 60,
    broken_promise_max      integer NOT NULL DEFAULT 180,
    missed_instalment       integer NOT NULL DEFAULT 50,
    missed_instalment_max   integer NOT NULL DEFAULT 150,
    open_dispute            integer NOT NULL DEFAULT 30,
    open_dispute_max        integer NOT NULL DEFAULT 90,
    active_plan             integer NOT NULL DEFAULT 40,
    active_plan_max         integer NOT NULL DEFAULT 80,
    limit_over              integer NOT NULL DEFAULT 150,  -- outstanding > credit limit
    limit_near              integer NOT NULL DEFAULT 50,   -- outstanding >= limit_near_pct %
    limit_near_pct          integer NOT NULL DEFAULT 80,
    liquidity_below_1       integer NOT NULL DEFAULT 100,
    grade_a                 integer NOT NULL DEFAULT 800,
    grade_b                 integer NOT NULL DEFAULT 650,
    grade_c                 integer NOT NULL DEFAULT 500,
    grade_d                 integer NOT NULL DEFAULT 350,
    credit_overdue_days     integer NOT NULL DEFAULT 30,   -- credit check: refuse beyond
    shrink_k                integer NOT NULL DEFAULT 5,    -- predictions: prior pseudo-observations
    ew_alpha_pct            integer NOT NULL DEFAULT 30,   -- weight of the latest invoice, %
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO risk_policies (tenant) VALUES ('*');

-- What risk needs of each invoice: enough to tell overdue amounts and ages
-- and, when it closes, how late it was paid.
CREATE TABLE risk_invoices (
    tenant          text NOT NULL,
    invoice_id      bigint NOT NULL,
    debtor_id       bigint NOT NULL,
    currency        char(3) NOT NULL,
    issue_date      date NOT NULL,
    due_date        date NOT NULL,
    amount_minor    bigint NOT NULL,
    open_minor      bigint NOT NULL,
    status          text NOT NULL DEFAULT 'open',   -- open, paid, cancelled, written_off
    paid_date       date,
    delay_days      integer,                        -- paid_date - due_date when it closed
    PRIMARY KEY (tenant, invoice_id)
);
CREATE INDEX risk_invoices_open ON risk_invoices (tenant, debtor_id) WHERE open_minor > 0;

-- One row per debtor: facts from DebtorCreated/Updated, behaviour counters,
-- and the last score with its factors. `snapshot` is the exact JSON text
-- written to Redis (field "risk"), so a rebuild gives identical bytes.
CREATE TABLE risk_debtor_profile (
    tenant                     text NOT NULL,
    debtor_id                  bigint NOT NULL,
    currency                   char(3) NOT NULL DEFAULT 'EUR',
    credit_limit_minor         bigint NOT NULL DEFAULT 0,
    current_assets_minor       bigint,
    current_liabilities_minor  bigint,
    open_disputes              integer NOT NULL DEFAULT 0,
    active_plans               integer NOT NULL DEFAULT 0,
    active_promises            integer NOT NULL DEFAULT 0,
    broken_promises            integer NOT NULL DEFAULT 0,
    missed_instalments         integer NOT NULL DEFAULT 0,
    paid_count                 integer NOT NULL DEFAULT 0,
    late_count                 integer NOT NULL DEFAULT 0,
    sum_delay_days             bigint NOT NULL DEFAULT 0,   -- signed: early payments count negative
    ew_days_late               double precision NOT NULL DEFAULT 0,
    score                      integer,
    grade                      char(1),
    factors                    jsonb,
    snapshot                   text,
    computed_on                date,
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, debtor_id)
);

-- The tenant's population, the prior that a short history is shrunk toward.
CREATE TABLE risk_population (
    tenant          text PRIMARY KEY,
    paid_count      bigint NOT NULL DEFAULT 0,
    late_count      bigint NOT NULL DEFAULT 0,
    sum_delay_days  bigint NOT NULL DEFAULT 0
);

-- Every change of score or grade, with the factors that made it.
CREATE TABLE risk_score_history (
    tenant       text NOT NULL,
    debtor_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    scored_at    timestamptz NOT NULL DEFAULT now(),
    as_of        date NOT NULL,
    score        integer NOT NULL,
    grade        char(1) NOT NULL,
    factors      jsonb NOT NULL,
    PRIMARY KEY (tenant, debtor_id, id)
);

-- Per open invoice: the probability of late payment and the expected
-- payment date (read by reporting's cash-in forecast). Rewritten for a
-- debtor each time risk rescored it; closed invoices have no row.
CREATE TABLE risk_predictions (
    tenant              text NOT NULL,
    invoice_id          bigint NOT NULL,
    debtor_id           bigint NOT NULL,
    currency            char(3) NOT NULL,
    open_minor          bigint NOT NULL,
    due_date            date NOT NULL,
    p_late              double precision NOT NULL,  -- 0..1
    expected_delay_days double precision NOT NULL,  -- after the due date (negative: early)
    expected_pay_date   date NOT NULL,              -- never before as_of
    as_of               date NOT NULL,
    PRIMARY KEY (tenant, invoice_id)
);
CREATE INDEX risk_predictions_by_date ON risk_predictions (tenant, expected_pay_date);
CREATE INDEX risk_predictions_by_debtor ON risk_predictions (tenant, debtor_id);
