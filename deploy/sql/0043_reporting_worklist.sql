-- The worklist (GET /api/v1/riskiest, the dashboard's "débiteurs à relancer")
-- ranks debtors by overdue amount. Summing the open invoices of every
-- debtor at each request reads all open invoices (hundreds of thousands at a
-- million invoices); instead each debtor's open amount per currency is kept
-- here, and the API examines debtors from the largest open amount down,
-- computing the exact overdue amount of those only, and stops once no debtor
-- left can have more overdue than the last one it keeps (overdue <= open).
--
-- Kept by a trigger on rpt_invoices, so that every path that changes an
-- invoice's open amount (facts.c: issue, payments, credit notes, write-offs,
-- cancellations, reversals, adjustments) keeps it without being told.
CREATE TABLE rpt_debtor_open (
    tenant      text NOT NULL,
    debtor_id   bigint NOT NULL,
    currency    char(3) NOT NULL,
    open_minor  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, debtor_id, currency)
);
CREATE INDEX rpt_debtor_open_rank ON rpt_debtor_open (tenant, open_minor DESC, debtor_id)
    WHERE open_minor > 0;

CREATE FUNCTION rpt_debtor_open_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO rpt_debtor_open (tenant, debtor_id, currency, open_minor)
        VALUES (NEW.tenant, NEW.debtor_id, NEW.currency, NEW.open_minor)
        ON CONFLICT (tenant, debtor_id, currency)
        DO UPDATE SET open_minor = rpt_debtor_open.open_minor + EXCLUDED.open_minor;
    ELSIF NEW.open_minor <> OLD.open_minor THEN
        UPDATE rpt_debtor_open SET open_minor = open_minor + NEW.open_minor - OLD.open_minor
        WHERE tenant = NEW.tenant AND debtor_id = NEW.debtor_id AND currency = NEW.currency;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER rpt_invoices_debtor_open AFTER INSERT OR UPDATE OF open_minor ON rpt_invoices
    FOR EACH ROW EXECUTE FUNCTION rpt_debtor_open_keep();

-- Invoices recorded before this migration.
INSERT INTO rpt_debtor_open (tenant, debtor_id, currency, open_minor)
SELECT tenant, debtor_id, currency, sum(open_minor) FROM rpt_invoices GROUP BY 1, 2, 3;
