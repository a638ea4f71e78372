//! Known keys per table of the workspace file, used to report unknown keys
//! with "did you mean". Part of the interface: add keys, rename none.

pub const TOP: &[&str] = &[
    "workspace",
    "sources",
    "stores",
    "warehouses",
    "pools",
    "pipelines",
    "notify",
];
pub const WORKSPACE: &[&str] = &[
    "name",
    "state",
    "max_parallel",
    "timezone",
    "lease_stale_after",
    "lease_give_up_after",
    "at_risk_margin",
];
pub const SOURCE: &[&str] = &["kind", "url", "path"];
pub const STORE: &[&str] = &[
    "kind",
    "path",
    "bucket",
    "prefix",
    "region",
    "endpoint",
    "path_style",
    "access_key_id",
    "secret_access_key",
    "bigquery_uri",
];
pub const WAREHOUSE: &[&str] = &[
    "kind",
    "path",
    "project",
    "dataset",
    "location",
    "credentials",
    "endpoint",
    "upload_chunk_kib",
];
pub const POOL: &[&str] = &["size"];
pub const PIPELINE: &[&str] = &[
    "max_active",
    "notify",
    "schedule",
    "timezone",
    "catchup",
    "deadline",
    "at_risk_margin",
    "tasks",
];
pub const NOTIFY: &[&str] = &["kind", "url", "routing_key", "secret", "on"];
pub const TASK: &[&str] = &[
    "id",
    "kind",
    "after",
    "pool",
    "retries",
    "retry_delay",
    "max_retry_delay",
    "timeout",
    "runbook",
    "notify",
    "deadline",
    "source",
    "table",
    "query",
    "store",
    "path",
    "format",
    "partitions",
    "lossy",
    "prefix",
    "include",
    "exclude",
    "warehouse",
    "mode",
    "key",
    "from",
    "incremental",
    "lookback",
    "initial",
    "target",
    "sql",
    "left",
    "right",
    "duration",
    "until",
    "command",
];
pub const CHECK_SIDE: &[&str] = &["target", "sql"];
