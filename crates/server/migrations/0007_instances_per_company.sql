-- An entity id is unique within its company, not across all of them: one company's ids
-- neither collide with nor reveal another's.
DROP INDEX workflow_instances_entity;
CREATE UNIQUE INDEX workflow_instances_entity ON workflow_instances (company_id, entity, entity_id);
