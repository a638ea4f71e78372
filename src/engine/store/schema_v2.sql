-- Version 2: per-instance parameters (JSON), for instances that are not a
-- task of the workspace file as such: the per-table instances of an
-- export_all fan-out ({"parent", "schema", "table"}) and ad-hoc exports and
-- loads ({"def": …}).
ALTER TABLE task_instances ADD COLUMN params TEXT;
-- When an instance last joined the line for a slot: processes sharing a pool
-- leave free slots to whoever has waited longer, so no process starves.
ALTER TABLE task_instances ADD COLUMN queued_at BIGINT;
