-- Version 3: schedules, deadlines and alerts.

-- The schedule slot a run is for (NULL for runs started by hand), and when
-- it must have succeeded (from the pipeline's `deadline`).
ALTER TABLE runs ADD COLUMN slot_at BIGINT;
ALTER TABLE runs ADD COLUMN deadline_at BIGINT;
-- A task's own `deadline`, resolved when the run was created.
ALTER TABLE task_instances ADD COLUMN deadline_at BIGINT;

-- Every slot `serve` came to, once: the primary key is what makes any number
-- of `serve` processes start a slot once. state: started | refused | skipped.
CREATE TABLE slots (
    pipeline    TEXT   NOT NULL,
    slot_at     BIGINT NOT NULL,
    run_date    TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    run_id      BIGINT,
    deadline_at BIGINT,
    detail      TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (pipeline, slot_at)
);

-- The outbox: one row per incident, written in the transaction of the state
-- change that causes it (or by the deadline watcher). `dedup_key` is stable
-- per run, task (or fan-out parent) and kind: PagerDuty's dedup key.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    dedup_key  TEXT   NOT NULL UNIQUE,
    kind       TEXT   NOT NULL,
    pipeline   TEXT   NOT NULL,
    run_id     BIGINT,
    slot_at    BIGINT,
    task_id    TEXT,
    -- JSON list of the instances this incident covers.
    tasks      TEXT   NOT NULL,
    -- The first line of the error (failed, interrupted), or how late (ms).
    error      TEXT,
    late_ms    BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Set once the alert's channels were chosen (deliveries rows written).
    routed_at  BIGINT
);
CREATE INDEX alerts_run ON alerts (run_id);
CREATE INDEX alerts_unrouted ON alerts (routed_at);

-- One row per alert and channel. state: pending | delivered | failed (the
-- last attempt failed; retried at next_at).
CREATE TABLE deliveries (
    alert_id      BIGINT  NOT NULL,
    channel       TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       BIGINT  NOT NULL,
    claimed_by    TEXT,
    claimed_until BIGINT,
    last_error    TEXT,
    answer        TEXT,
    delivered_at  BIGINT,
    PRIMARY KEY (alert_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

-- Live `serve` processes (heartbeat), so a run's own process knows whether
-- it must deliver its alerts itself before it exits.
CREATE TABLE servers (
    token        TEXT PRIMARY KEY,
    host         TEXT   NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
