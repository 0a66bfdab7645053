-- KPI rollups (issue 5, "Scale"): additive daily cells per owner and slice, derived from the
-- records and never backed up. Every write that can change a cell marks its owner dirty in the
-- same transaction (the triggers below); `kpi_rollup_dirty` is the change log the refresh reads
-- before dashboards read the cells. owner_id 0 means "everything" (FX rates, stages, product
-- families, the reporting currency or the company time zone changed). Kept identical to sqlite/ (here statement-level
-- triggers with transition tables, so COPY and bulk statements mark each owner once).
CREATE TABLE kpi_rollup_dirty (
    owner_id BIGINT PRIMARY KEY,
    -- Bumped by every marking write; the refresh clears a mark only if it is unchanged.
    version BIGINT NOT NULL
);
-- One cell per local day (company time zone) x owner x product line x lead source x segment
-- ('' = not set). Amounts are minor units of the reporting currency, converted at the dated rate
-- of the KPI rules (close day for won and lost, creation day for open opportunities).
CREATE TABLE kpi_rollup_cells (
    owner_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    product_line TEXT NOT NULL,
    source TEXT NOT NULL,
    segment TEXT NOT NULL,
    created BIGINT NOT NULL,
    created_won BIGINT NOT NULL,
    won BIGINT NOT NULL,
    lost BIGINT NOT NULL,
    won_amount BIGINT NOT NULL,
    cycle_days BIGINT NOT NULL,
    cycle_count BIGINT NOT NULL,
    pipeline_in BIGINT NOT NULL,
    pipeline_out BIGINT NOT NULL,
    activities BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL,
    emails BIGINT NOT NULL,
    meetings BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    visit_sales BIGINT NOT NULL,
    PRIMARY KEY (owner_id, day, product_line, source, segment)
);
CREATE INDEX kpi_rollup_cells_day ON kpi_rollup_cells(day, owner_id);
-- Per owner and calendar month (YYYY-MM): opportunities created and the net change of the open
-- pipeline (amounts in minus amounts out), so the pipeline before a period and which reps have
-- opportunities at all are read from a few thousand rows instead of every daily cell.
CREATE TABLE kpi_rollup_months (
    owner_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    created BIGINT NOT NULL,
    pipeline_net BIGINT NOT NULL,
    PRIMARY KEY (owner_id, month)
);

CREATE FUNCTION kpi_rollup_mark_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    RETURN NULL;
END; $$;
CREATE FUNCTION kpi_rollup_mark_new_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) SELECT DISTINCT owner_id, 1 FROM new_rows ORDER BY 1
    ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    RETURN NULL;
END; $$;
CREATE FUNCTION kpi_rollup_mark_old_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) SELECT DISTINCT owner_id, 1 FROM old_rows ORDER BY 1
    ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    RETURN NULL;
END; $$;
CREATE FUNCTION kpi_rollup_mark_both_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT owner_id, 1 FROM (SELECT owner_id FROM new_rows UNION SELECT owner_id FROM old_rows) o ORDER BY 1
    ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    RETURN NULL;
END; $$;

CREATE TRIGGER kpi_rollup_opportunities_insert AFTER INSERT ON opportunities
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_new_owners();
CREATE TRIGGER kpi_rollup_opportunities_update AFTER UPDATE ON opportunities
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_both_owners();
CREATE TRIGGER kpi_rollup_opportunities_delete AFTER DELETE ON opportunities
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_old_owners();
CREATE TRIGGER kpi_rollup_activities_insert AFTER INSERT ON activities
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_new_owners();
CREATE TRIGGER kpi_rollup_activities_update AFTER UPDATE ON activities
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_both_owners();
CREATE TRIGGER kpi_rollup_activities_delete AFTER DELETE ON activities
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_old_owners();

-- The product line is the family of an opportunity's first line.
CREATE FUNCTION kpi_rollup_mark_line_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO kpi_rollup_dirty (owner_id, version)
        SELECT DISTINCT o.owner_id, 1 FROM old_rows l JOIN opportunities o ON o.id = l.opportunity_id ORDER BY 1
        ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO kpi_rollup_dirty (owner_id, version)
        SELECT DISTINCT o.owner_id, 1 FROM opportunities o
        WHERE o.id IN (SELECT opportunity_id FROM new_rows UNION SELECT opportunity_id FROM old_rows) ORDER BY 1
        ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    ELSE
        INSERT INTO kpi_rollup_dirty (owner_id, version)
        SELECT DISTINCT o.owner_id, 1 FROM new_rows l JOIN opportunities o ON o.id = l.opportunity_id ORDER BY 1
        ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    END IF;
    RETURN NULL;
END; $$;
CREATE TRIGGER kpi_rollup_lines_insert AFTER INSERT ON opportunity_lines
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_line_owners();
CREATE TRIGGER kpi_rollup_lines_update AFTER UPDATE ON opportunity_lines
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_line_owners();
CREATE TRIGGER kpi_rollup_lines_delete AFTER DELETE ON opportunity_lines
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_line_owners();

-- The segment is the account's industry.
CREATE FUNCTION kpi_rollup_mark_account_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT DISTINCT owner_id, 1 FROM opportunities WHERE account_id = NEW.id ORDER BY 1
    ON CONFLICT (owner_id) DO UPDATE SET version = kpi_rollup_dirty.version + 1;
    RETURN NULL;
END; $$;
CREATE TRIGGER kpi_rollup_accounts_industry AFTER UPDATE OF industry ON accounts
FOR EACH ROW WHEN (NEW.industry IS DISTINCT FROM OLD.industry) EXECUTE FUNCTION kpi_rollup_mark_account_owners();
CREATE TRIGGER kpi_rollup_products_family AFTER UPDATE OF family ON products
FOR EACH ROW WHEN (NEW.family IS DISTINCT FROM OLD.family) EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_stages AFTER INSERT OR UPDATE OR DELETE ON stages
FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_fx AFTER INSERT OR UPDATE OR DELETE ON fx_rates
FOR EACH STATEMENT EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_currencies_update AFTER UPDATE OF minor_units ON currencies
FOR EACH ROW WHEN (NEW.minor_units IS DISTINCT FROM OLD.minor_units) EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_settings_insert AFTER INSERT ON settings
FOR EACH ROW WHEN (NEW.key IN ('reporting_currency', 'company_time_zone')) EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_settings_update AFTER UPDATE ON settings
FOR EACH ROW WHEN (NEW.key IN ('reporting_currency', 'company_time_zone') OR OLD.key IN ('reporting_currency', 'company_time_zone'))
EXECUTE FUNCTION kpi_rollup_mark_everything();
CREATE TRIGGER kpi_rollup_settings_delete AFTER DELETE ON settings
FOR EACH ROW WHEN (OLD.key IN ('reporting_currency', 'company_time_zone')) EXECUTE FUNCTION kpi_rollup_mark_everything();
