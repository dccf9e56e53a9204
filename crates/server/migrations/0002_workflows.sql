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

-- A running entity on a workflow version: it stays on that version whatever is published later.
CREATE TABLE workflow_instances (
    id TEXT PRIMARY KEY,
    -- The customer company the entity belongs to.
    company_id TEXT NOT NULL REFERENCES companies (id),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    -- The entity's fields, as JSON (`rules::workflow::Instance::fields`).
    fields TEXT NOT NULL,
    started_by TEXT REFERENCES users (id),
    -- Bumped by every change; a timer names the revision that armed it.
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
CREATE UNIQUE INDEX workflow_instances_entity ON workflow_instances (entity, entity_id);
CREATE INDEX workflow_instances_version ON workflow_instances (workflow_id, version);

-- The timers of each instance's current state. A scheduler leases due rows (`leased_until`),
-- fires them in a transaction that also deletes them, so a timer fires once even with several
-- server instances on one database.
CREATE TABLE workflow_timers (
    instance_id TEXT NOT NULL REFERENCES workflow_instances (id),
    transition_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    leased_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, transition_id)
);
CREATE INDEX workflow_timers_due ON workflow_timers (due_at, leased_until);

-- Every transition of an instance, and every timer that came due but did not fire.
CREATE TABLE workflow_history (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES workflow_instances (id),
    at BIGINT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    -- manual, timer, event, or skipped (a timer whose guard did not hold when it came due).
    cause TEXT NOT NULL,
    transition_id TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT
);
CREATE INDEX workflow_history_instance ON workflow_history (instance_id, at);

-- Where a workflow's `call` action goes: a URL, and the secret webhooks are signed with.
CREATE TABLE integrations (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Webhooks to send, written with the transition that calls them; retried until delivered.
CREATE TABLE webhook_outbox (
    id TEXT PRIMARY KEY,
    integration TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    leased_until BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);
