-- The services' own PostgreSQL role: least privilege.
--
-- Migrations (this file included) run as the schema's owner; the services
-- connect as creance_app, which may read and write rows and nothing else:
-- no DDL (no CREATE in the schema, not the owner of any table, so no DROP,
-- ALTER or TRUNCATE), no superuser, no role or database creation, no
-- temporary tables. A compromised service can then damage rows, not the
-- schema, and cannot read schema_migrations' history or rewrite it.
--
-- The role is created without a password: the deployment sets one
-- (ALTER ROLE creance_app PASSWORD ...) or uses another authentication
-- method; a secret never goes into a migration file. Roles belong to the
-- cluster, so the role may already exist (another database of the same
-- cluster): it is then only brought back to these attributes.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'creance_app') THEN
        CREATE ROLE creance_app LOGIN;
    END IF;
END
$$;

ALTER ROLE creance_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT;

-- Since PostgreSQL 15, PUBLIC may not create in schema public; say it
-- anyway, for older servers and for clusters whose defaults were changed.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO creance_app;

DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO creance_app', current_database());
END
$$;

-- Rows of every table the services use, which is every table but the
-- migrations' own bookkeeping.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO creance_app;
REVOKE ALL ON schema_migrations FROM creance_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO creance_app;

-- Tables and sequences that later migrations create (run by this same
-- owner) get the same grants without each migration repeating them.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO creance_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO creance_app;
