-- The four references intake writes on every item are checked once per
-- statement instead of once per row.
--
-- A foreign key checks each inserted row with its own query (SELECT 1 FROM
-- parent WHERE tenant = $1 AND id = $2 FOR KEY SHARE), and intake's
-- sessions plan every execution (plan_cache_mode = force_custom_plan,
-- common/db.c says why), those queries included. Measured with
-- pg_stat_statements during a 200k-item feed: 384k such checks, 8.3 s of
-- planning and 2.2 s of execution out of 33.5 s of PostgreSQL CPU. Intake
-- writes invoices, payments and allocations in runs of hundreds per
-- statement, so one anti-join per statement does the same check.
--
-- The guarantee is unchanged: a row naming a debtor, payment or invoice
-- that does not exist in its tenant is refused (SQLSTATE 23503), whoever
-- writes it. A foreign key also stops the parent from going away while a
-- child names it; here the parents cannot go away at all: ledger rows are
-- never deleted and their keys never change (facts are corrected by later
-- facts: adjustments, cancellations, reversals), which the guards below
-- enforce. The other references to these tables (disputes, credit notes,
-- plans...) are low-volume and keep their foreign keys.

-- One function per table, with static statements: PL/pgSQL keeps each
-- statement parsed for the session (a statement built with EXECUTE would
-- be parsed and planned at every call, which a one-row INSERT feels).
CREATE FUNCTION creance_missing_debtor() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.tenant, n.debtor_id INTO bad FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM debtors p WHERE p.tenant = n.tenant AND p.id = n.debtor_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%.debtor_id: no row of debtors has (tenant, id) = (%, %)',
            TG_TABLE_NAME, bad.tenant, bad.debtor_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION creance_missing_payment_or_invoice() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.tenant, n.payment_id INTO bad FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.tenant = n.tenant AND p.id = n.payment_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%.payment_id: no row of payments has (tenant, id) = (%, %)',
            TG_TABLE_NAME, bad.tenant, bad.payment_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT n.tenant, n.invoice_id INTO bad FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM invoices p WHERE p.tenant = n.tenant AND p.id = n.invoice_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%.invoice_id: no row of invoices has (tenant, id) = (%, %)',
            TG_TABLE_NAME, bad.tenant, bad.invoice_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION creance_refuse_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % refused: ledger rows keep their key and references and are never deleted',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

ALTER TABLE invoices DROP CONSTRAINT invoices_tenant_debtor_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_tenant_debtor_id_fkey;
ALTER TABLE allocations DROP CONSTRAINT allocations_tenant_payment_id_fkey;
ALTER TABLE allocations DROP CONSTRAINT allocations_tenant_invoice_id_fkey;

-- The checks, after each INSERT statement over the rows it inserted.
CREATE TRIGGER invoices_references AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION creance_missing_debtor();
CREATE TRIGGER payments_references AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION creance_missing_debtor();
CREATE TRIGGER allocations_references AFTER INSERT ON allocations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION creance_missing_payment_or_invoice();

-- Keys and references never change (an UPDATE that names those columns
-- but keeps their values passes), and the parents are never deleted.
CREATE TRIGGER invoices_key_fixed BEFORE UPDATE OF tenant, id, debtor_id ON invoices
    FOR EACH ROW WHEN ((OLD.tenant, OLD.id, OLD.debtor_id) IS DISTINCT FROM (NEW.tenant, NEW.id, NEW.debtor_id))
    EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER payments_key_fixed BEFORE UPDATE OF tenant, id, debtor_id ON payments
    FOR EACH ROW WHEN ((OLD.tenant, OLD.id, OLD.debtor_id) IS DISTINCT FROM (NEW.tenant, NEW.id, NEW.debtor_id))
    EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER allocations_key_fixed BEFORE UPDATE OF tenant, payment_id, invoice_id ON allocations
    FOR EACH ROW WHEN ((OLD.tenant, OLD.payment_id, OLD.invoice_id)
                       IS DISTINCT FROM (NEW.tenant, NEW.payment_id, NEW.invoice_id))
    EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER debtors_key_fixed BEFORE UPDATE OF tenant, id ON debtors
    FOR EACH ROW WHEN ((OLD.tenant, OLD.id) IS DISTINCT FROM (NEW.tenant, NEW.id))
    EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER debtors_kept BEFORE DELETE ON debtors
    FOR EACH STATEMENT EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER payments_kept BEFORE DELETE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION creance_refuse_key_change();
CREATE TRIGGER invoices_kept BEFORE DELETE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION creance_refuse_key_change();
