-- Version 2: per-instance parameters (JSON), for instances that are not a
-- task of the workspace file as such: the per-table instances of an
-- export_all fan-out ({"parent", "schema", "table"}) and ad-hoc exports and
-- loads ({"def": …}).
ALTER TABLE task_instances ADD COLUMN params TEXT;
