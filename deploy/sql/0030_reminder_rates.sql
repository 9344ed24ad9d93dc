-- Reference rates for statutory late-payment penalties (services/reminders/
-- penalties.h). Rows with tenant NULL are the defaults shipped here; a
-- tenant adds its own rows (same kind, jurisdiction, valid_from) to correct
-- or extend them, and its rows win. Each row holds from valid_from until the
-- next row of the same kind and jurisdiction.
--
-- These values were transcribed from the official publications as known
-- when this file was written; they MUST be checked against the sources and
-- kept up to date (a new ECB or Bank of England decision, a new French legal
-- rate every half-year) -- by an operator, as tenant or default rows in a
-- later migration:
--   ECB_REFI            ECB main refinancing operations, fixed rate, from
--                       the date the change takes effect (ecb.europa.eu).
--   LEGAL_RATE_PRO      French "taux de l'intérêt légal", "tous les autres
--                       cas" (creditor not a private person), per half-year,
--                       arrêté published in the Journal officiel.
--   LEGAL_RATE_CONSUMER the same for a creditor who is a private person.
--   BOE_BASE            Bank of England Bank Rate, from the effective date.
--   EU_REFERENCE        a non-euro member state's directive 2011/7 reference
--                       rate, valid_from 1 January / 1 July (none by default:
--                       euro-area creditors use ECB_REFI).
-- Rates are basis points (1 bp = 0.01 %).
CREATE TABLE reminder_rates (
    tenant        text REFERENCES tenants(id),          -- NULL: the default
    kind          text NOT NULL CHECK (kind IN ('ECB_REFI', 'LEGAL_RATE_PRO',
                      'LEGAL_RATE_CONSUMER', 'BOE_BASE', 'EU_REFERENCE')),
    jurisdiction  char(2) NOT NULL CHECK (jurisdiction ~ '^[A-Z]{2}$'),
    valid_from    date NOT NULL,
    bps           integer NOT NULL CHECK (bps BETWEEN -10000 AND 100000),
    note          text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- One row per key and tenant, the defaults (NULL tenant) included.
CREATE UNIQUE INDEX reminder_rates_key
    ON reminder_rates (COALESCE(tenant, ''), kind, jurisdiction, valid_from);

INSERT INTO reminder_rates (tenant, kind, jurisdiction, valid_from, bps) VALUES
    -- ECB main refinancing operations
    (NULL, 'ECB_REFI', 'EU', '2016-03-16',   0),
    (NULL, 'ECB_REFI', 'EU', '2022-07-27',  50),
    (NULL, 'ECB_REFI', 'EU', '2022-09-14', 125),
    (NULL, 'ECB_REFI', 'EU', '2022-11-02', 200),
    (NULL, 'ECB_REFI', 'EU', '2022-12-21', 250),
    (NULL, 'ECB_REFI', 'EU', '2023-02-08', 300),
    (NULL, 'ECB_REFI', 'EU', '2023-03-22', 350),
    (NULL, 'ECB_REFI', 'EU', '2023-05-10', 375),
    (NULL, 'ECB_REFI', 'EU', '2023-06-21', 400),
    (NULL, 'ECB_REFI', 'EU', '2023-08-02', 425),
    (NULL, 'ECB_REFI', 'EU', '2023-09-20', 450),
    (NULL, 'ECB_REFI', 'EU', '2024-06-12', 425),
    (NULL, 'ECB_REFI', 'EU', '2024-09-18', 365),
    (NULL, 'ECB_REFI', 'EU', '2024-10-23', 340),
    (NULL, 'ECB_REFI', 'EU', '2024-12-18', 315),
    (NULL, 'ECB_REFI', 'EU', '2025-02-05', 290),
    (NULL, 'ECB_REFI', 'EU', '2025-03-12', 265),
    (NULL, 'ECB_REFI', 'EU', '2025-04-23', 240),
    (NULL, 'ECB_REFI', 'EU', '2025-06-11', 215),
    -- French legal interest rate, creditor not a private person
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2023-01-01', 206),
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2023-07-01', 422),
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2024-01-01', 507),
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2024-07-01', 492),
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2025-01-01', 371),
    (NULL, 'LEGAL_RATE_PRO', 'FR', '2025-07-01', 276),
    -- French legal interest rate, creditor a private person
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2023-01-01', 447),
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2023-07-01', 682),
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2024-01-01', 801),
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2024-07-01', 816),
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2025-01-01', 721),
    (NULL, 'LEGAL_RATE_CONSUMER', 'FR', '2025-07-01', 665),
    -- Bank of England Bank Rate
    (NULL, 'BOE_BASE', 'GB', '2020-03-19',  10),
    (NULL, 'BOE_BASE', 'GB', '2021-12-16',  25),
    (NULL, 'BOE_BASE', 'GB', '2022-02-03',  50),
    (NULL, 'BOE_BASE', 'GB', '2022-03-17',  75),
    (NULL, 'BOE_BASE', 'GB', '2022-05-05', 100),
    (NULL, 'BOE_BASE', 'GB', '2022-06-16', 125),
    (NULL, 'BOE_BASE', 'GB', '2022-08-04', 175),
    (NULL, 'BOE_BASE', 'GB', '2022-09-22', 225),
    (NULL, 'BOE_BASE', 'GB', '2022-11-03', 300),
    (NULL, 'BOE_BASE', 'GB', '2022-12-15', 350),
    (NULL, 'BOE_BASE', 'GB', '2023-02-02', 400),
    (NULL, 'BOE_BASE', 'GB', '2023-03-23', 425),
    (NULL, 'BOE_BASE', 'GB', '2023-05-11', 450),
    (NULL, 'BOE_BASE', 'GB', '2023-06-22', 500),
    (NULL, 'BOE_BASE', 'GB', '2023-08-03', 525),
    (NULL, 'BOE_BASE', 'GB', '2024-08-01', 500),
    (NULL, 'BOE_BASE', 'GB', '2024-11-07', 475),
    (NULL, 'BOE_BASE', 'GB', '2025-02-06', 450),
    (NULL, 'BOE_BASE', 'GB', '2025-05-08', 425),
    (NULL, 'BOE_BASE', 'GB', '2025-08-07', 400);
