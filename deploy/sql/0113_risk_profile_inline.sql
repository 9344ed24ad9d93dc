-- risk_debtor_profile rows are ~2.3 kB (the score's factors as jsonb and
-- the snapshot the API and Redis serve, ~1 kB each): over the default
-- toast_tuple_target (~2 kB), so every rescoring's UPDATE compressed both
-- columns again (pglz), one debtor at a time, in the transaction an event
-- waits on. Rows up to 4 kB now stay inline and uncompressed: more pages
-- (3 rows per 8 kB page instead of 4-5), less CPU per event.
ALTER TABLE risk_debtor_profile SET (toast_tuple_target = 4080);
