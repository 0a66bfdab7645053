-- KPI rollups (issue 5, "Scale"): additive daily cells per owner and slice, derived from the
-- records and never backed up. Every write that can change a cell marks its owner dirty in the
-- same transaction (the triggers below); `kpi_rollup_dirty` is the change log the refresh reads
-- before dashboards read the cells. owner_id 0 means "everything" (FX rates, stages, product
-- families, the reporting currency or the company time zone changed). Kept identical to postgres/.
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

CREATE TRIGGER kpi_rollup_opportunities_insert AFTER INSERT ON opportunities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_opportunities_update AFTER UPDATE ON opportunities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (OLD.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_opportunities_delete AFTER DELETE ON opportunities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (OLD.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_activities_insert AFTER INSERT ON activities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_activities_update AFTER UPDATE ON activities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (OLD.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_activities_delete AFTER DELETE ON activities BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (OLD.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
-- The product line is the family of an opportunity's first line.
CREATE TRIGGER kpi_rollup_lines_insert AFTER INSERT ON opportunity_lines BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT owner_id, 1 FROM opportunities WHERE id = NEW.opportunity_id
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_lines_update AFTER UPDATE ON opportunity_lines BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT owner_id, 1 FROM opportunities WHERE id IN (NEW.opportunity_id, OLD.opportunity_id)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_lines_delete AFTER DELETE ON opportunity_lines BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT owner_id, 1 FROM opportunities WHERE id = OLD.opportunity_id
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
-- The segment is the account's industry.
CREATE TRIGGER kpi_rollup_accounts_industry AFTER UPDATE OF industry ON accounts
WHEN NEW.industry IS NOT OLD.industry BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version)
    SELECT DISTINCT owner_id, 1 FROM opportunities WHERE account_id = NEW.id
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_products_family AFTER UPDATE OF family ON products
WHEN NEW.family IS NOT OLD.family BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_stages_insert AFTER INSERT ON stages BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_stages_update AFTER UPDATE ON stages BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_stages_delete AFTER DELETE ON stages BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_fx_insert AFTER INSERT ON fx_rates BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_fx_update AFTER UPDATE ON fx_rates BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_fx_delete AFTER DELETE ON fx_rates BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_currencies_update AFTER UPDATE OF minor_units ON currencies BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_settings_insert AFTER INSERT ON settings
WHEN NEW.key IN ('reporting_currency', 'company_time_zone') BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_settings_update AFTER UPDATE ON settings
WHEN NEW.key IN ('reporting_currency', 'company_time_zone') OR OLD.key IN ('reporting_currency', 'company_time_zone') BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER kpi_rollup_settings_delete AFTER DELETE ON settings
WHEN OLD.key IN ('reporting_currency', 'company_time_zone') BEGIN
    INSERT INTO kpi_rollup_dirty (owner_id, version) VALUES (0, 1)
    ON CONFLICT (owner_id) DO UPDATE SET version = version + 1;
END;
