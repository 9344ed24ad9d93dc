-- The debtor-level prediction a debtor's per-invoice rows of
-- risk_predictions were last written with (p_late, expected delay, as-of
-- day). Every open invoice of a debtor carries the same p_late and delay;
-- when a rescoring computes the same three values again (a new invoice of
-- a debtor whose history and population did not move), only the invoices
-- the transaction touched need their row written, not all the debtor's
-- open invoices (services/risk/scoring.c, SQL_WRITE).
ALTER TABLE risk_debtor_profile
    ADD COLUMN pred_p_late      double precision,
    ADD COLUMN pred_delay_days  double precision,
    ADD COLUMN pred_as_of       date;
