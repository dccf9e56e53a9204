-- When a step began to wait for its approvers, and when they were last reminded of it: a step
-- that waits longer than the reminder interval reminds them, once per interval (see
-- `orders::approvals::remind`).
ALTER TABLE approval_steps ADD COLUMN pending_since BIGINT;
ALTER TABLE approval_steps ADD COLUMN reminded_at BIGINT;
-- Steps already waiting: since their order last changed.
UPDATE approval_steps SET pending_since = (SELECT o.updated_at FROM orders o WHERE o.id = approval_steps.order_id)
 WHERE status = 'pending';
CREATE INDEX approval_steps_waiting ON approval_steps (status, pending_since);
