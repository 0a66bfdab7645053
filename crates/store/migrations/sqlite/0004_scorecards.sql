-- Qualification scorecards (C2): a methodology per pipeline (MEDDIC, SPIN, BANT or the
-- company's own criteria) scored on each opportunity, usable as exit criteria ("score:<key>").
ALTER TABLE pipelines ADD COLUMN methodology TEXT NOT NULL DEFAULT '';
CREATE TABLE scorecard_criteria (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    position BIGINT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    UNIQUE (pipeline_id, key)
);
CREATE TABLE opportunity_scores (
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    criterion_id BIGINT NOT NULL REFERENCES scorecard_criteria(id),
    score BIGINT NOT NULL,
    note TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    PRIMARY KEY (opportunity_id, criterion_id)
);
