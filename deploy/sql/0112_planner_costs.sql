-- The planner's random_page_cost for this database: 1.1 instead of 4.0.
-- 4.0 models a spinning disk, where a random page costs four sequential
-- ones. Here the working set is in memory or on SSD, where both cost about
-- the same. With 4.0, risk's per-transaction statements (a few dozen
-- debtors, a few rows each) were planned as hash joins over the whole of
-- risk_invoices and risk_predictions once those held ~15k rows: 5 ms per
-- transaction at 2,000 events/s, against 1 ms through the indexes. Set on
-- the database so that every service's session, the operator's psql
-- included, plans alike; a new session picks it up.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());
END
$$;
