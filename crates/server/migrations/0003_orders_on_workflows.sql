-- Orders run on workflows: every order submitted from now on has a workflow instance (entity
-- 'order', entity_id the order's id), and the order's state is that instance's state. The
-- instance says which workflow and version the order runs on; orders placed before this
-- migration have none and keep the fixed flow they started on.
ALTER TABLE orders ADD COLUMN workflow_instance_id TEXT REFERENCES workflow_instances (id);
CREATE UNIQUE INDEX orders_workflow_instance ON orders (workflow_instance_id);
