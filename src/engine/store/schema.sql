-- Switchyard state store, version 1.
-- Portable SQL: it must also run on PostgreSQL (INTEGER PRIMARY KEY becomes an
-- identity column there; every time is BIGINT milliseconds since the epoch).

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    pipeline      TEXT    NOT NULL,
    run_date      TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    backfill_id   BIGINT,
    created_at    BIGINT  NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    -- The lease: the process executing this run (NULL when nobody does).
    owner_token   TEXT,
    owner_pid     BIGINT,
    owner_host    TEXT,
    owner_started BIGINT,
    heartbeat_at  BIGINT,
    note          TEXT
);
-- Two live runs of the same pipeline and date are refused by the store itself.
CREATE UNIQUE INDEX runs_live ON runs (pipeline, run_date) WHERE state IN ('queued', 'running');
CREATE INDEX runs_owner ON runs (owner_token);

CREATE TABLE task_instances (
    run_id           BIGINT  NOT NULL,
    task_id          TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    attempt          INTEGER NOT NULL DEFAULT 0,
    -- Attempts made before the current retry budget began (a rerun resets it).
    retry_base       INTEGER NOT NULL DEFAULT 0,
    pool             TEXT,
    slots            INTEGER NOT NULL DEFAULT 1,
    upstream         TEXT    NOT NULL,
    ord              INTEGER NOT NULL,
    rows_done        BIGINT,
    bytes_done       BIGINT,
    total_estimate   BIGINT,
    error            TEXT,
    waiting_on       TEXT,
    next_try_at      BIGINT,
    started_at       BIGINT,
    finished_at      BIGINT,
    updated_at       BIGINT  NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, task_id)
);
CREATE INDEX task_instances_pool ON task_instances (pool, state);

CREATE TABLE attempts (
    run_id      BIGINT  NOT NULL,
    task_id     TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    error       TEXT,
    exit_code   INTEGER,
    host        TEXT,
    pid         BIGINT,
    pgid        BIGINT,
    proc_start  BIGINT,
    PRIMARY KEY (run_id, task_id, attempt)
);

CREATE TABLE logs (
    run_id  BIGINT  NOT NULL,
    task_id TEXT    NOT NULL,
    attempt INTEGER NOT NULL,
    line_no BIGINT  NOT NULL,
    at      BIGINT  NOT NULL,
    line    TEXT    NOT NULL,
    PRIMARY KEY (run_id, task_id, attempt, line_no)
);

CREATE TABLE pools (
    name        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    -- The size the workspace file last said; a changed file wins over a resize.
    config_size INTEGER,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE requests (
    id         INTEGER PRIMARY KEY,
    run_id     BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT   NOT NULL,
    done_at    BIGINT,
    result     TEXT
);
CREATE INDEX requests_open ON requests (run_id, done_at);

CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    run_id  BIGINT,
    task_id TEXT,
    kind    TEXT   NOT NULL,
    payload TEXT   NOT NULL
);

CREATE TABLE journal (
    id      INTEGER PRIMARY KEY,
    at      BIGINT NOT NULL,
    who     TEXT   NOT NULL,
    action  TEXT   NOT NULL,
    run_id  BIGINT,
    tasks   TEXT   NOT NULL,
    detail  TEXT
);
CREATE INDEX journal_run ON journal (run_id, at);

CREATE TABLE backfills (
    id         INTEGER PRIMARY KEY,
    pipeline   TEXT    NOT NULL,
    from_date  TEXT    NOT NULL,
    to_date    TEXT    NOT NULL,
    max_active INTEGER NOT NULL,
    created_at BIGINT  NOT NULL
);
