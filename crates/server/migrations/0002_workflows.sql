-- Workflow definitions, one row per version. A workflow has at most one draft (its latest
-- version); published versions never change, so instances pinned to them keep running on them.
CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    name TEXT NOT NULL,
    entity TEXT NOT NULL,
    -- The definition as JSON, its `id` and `version` those of this row.
    document TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    published_by TEXT REFERENCES users (id),
    published_at BIGINT,
    PRIMARY KEY (workflow_id, version)
);
CREATE INDEX workflow_versions_published ON workflow_versions (entity, status, workflow_id, version);
