-- Version 5: incremental exports.

-- The range of a column each incremental export read in a run: rows above
-- `above` (NULL: from the start) up to `through` (NULL: no rows). Written
-- with the attempt's completion; a later attempt of the same run and task
-- overwrites it. `advances` is 0 for a range given by hand (`--since`).
CREATE TABLE export_ranges (
    run_id      BIGINT  NOT NULL,
    task_id     TEXT    NOT NULL,
    pipeline    TEXT    NOT NULL,
    column_name TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    above       TEXT,
    through     TEXT,
    rows        BIGINT  NOT NULL,
    advances    INTEGER NOT NULL,
    recorded_at BIGINT  NOT NULL,
    PRIMARY KEY (run_id, task_id)
);

-- The high-water mark per pipeline and task: the largest `through` of a run
-- that succeeded (so its file was loaded). The next run reads above it.
CREATE TABLE export_marks (
    pipeline    TEXT   NOT NULL,
    task_id     TEXT   NOT NULL,
    column_name TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    mark        TEXT   NOT NULL,
    run_id      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (pipeline, task_id)
);
