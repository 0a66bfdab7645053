-- Visibility (owner) plus status (stage) filters, e.g. a manager's open pipeline: the covering
-- index answers counts without touching rows and narrows lists before sorting.
CREATE INDEX opportunities_owner_stage ON opportunities(owner_id, stage_id, close_date);
