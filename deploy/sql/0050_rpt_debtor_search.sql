-- Debtor search for people (`creance debtor search`, GET /api/v1/debtors?q=):
-- reporting's copy of each debtor also keeps the company id (SIREN, VAT
-- number) and the e-mail address, so that one tenant-scoped query finds a
-- debtor by any of name, external id, company id or e-mail.
--
-- pg_trgm (shipped in Debian's postgresql-15 package, and trusted: the
-- database's owner may create it) indexes trigrams, which serves ILIKE
-- '%text%' as well as prefixes; a B-tree would only serve prefixes of one
-- column. One expression index over the four fields, the same expression
-- the query matches against (services/reporting/search.c).

ALTER TABLE rpt_debtors ADD COLUMN company_id text NOT NULL DEFAULT '';
ALTER TABLE rpt_debtors ADD COLUMN email text NOT NULL DEFAULT '';

-- Debtors recorded before this migration: their company id and e-mail as
-- the ledger has them now (later DebtorUpdated events keep them current).
UPDATE rpt_debtors r SET company_id = d.company_id, email = d.email
FROM debtors d WHERE d.tenant = r.tenant AND d.id = r.debtor_id;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX rpt_debtors_search ON rpt_debtors USING gin
    ((legal_name || ' ' || external_id || ' ' || company_id || ' ' || email) gin_trgm_ops);
