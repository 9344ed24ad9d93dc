-- `creance plan show --debtor ID` (GET /api/v1/plans?debtor_id= on
-- reminders) reads one debtor's plans.
CREATE INDEX rem_plans_by_debtor ON rem_plans (tenant, debtor_id);
