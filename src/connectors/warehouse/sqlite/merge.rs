//! `mode = "merge"`: the file's rows are staged like a replace's, checked,
//! then upserted into the table by its key, inside the load's transaction, so
//! a refusal (or a crash) leaves the table as it was:
//! - every key column must be in the file and in the table, no key value may
//!   be NULL, and no key may appear twice in the file (which row would win is
//!   undefined otherwise);
//! - a missing table becomes the staging table itself (the file's declared
//!   types, as a replace would make it), an existing one keeps its columns
//!   (the file's must be among them, as for an append);
//! - the table gets a unique index on the key (`ON CONFLICT` needs one), then
//!   `INSERT … SELECT … ON CONFLICT (key) DO UPDATE` sets every non-key column
//!   of the file; rows whose key is not in the file are left alone, and so are
//!   the table's columns that the file lacks.

use anyhow::{Context, Result, bail};
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use super::read::ColumnDef;
use super::{RESERVED_PREFIX, STAGING, execute, quote};

/// Upserts the staged rows (file `columns`) into `table` (its columns
/// `existing`, None when it does not exist yet) by `key`.
pub(super) async fn apply(
    conn: &mut SqliteConnection,
    table: &str,
    key: &[String],
    columns: &[ColumnDef],
    existing: Option<&[ColumnDef]>,
) -> Result<()> {
    if key.is_empty() {
        bail!("a merge needs `key`: the columns that identify a row");
    }
    // The file's spelling of each key column (SQLite names are ASCII case-insensitive).
    let mut keys: Vec<&str> = Vec::with_capacity(key.len());
    for k in key {
        if let Some(target) = existing
            && !target.iter().any(|c| c.name.eq_ignore_ascii_case(k))
        {
            bail!("key column `{k}` is not in table `{table}`");
        }
        let Some(c) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(k)) else {
            bail!("key column `{k}` is not in the file");
        };
        keys.push(&c.name);
    }
    refuse_null_keys(conn, &keys).await?;
    refuse_duplicate_keys(conn, &keys).await?;

    let t = quote(table);
    let key_list = keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ");
    let index = quote(&index_name(table, &keys));
    if existing.is_none() {
        execute(conn, format!("ALTER TABLE {STAGING} RENAME TO {t}")).await?;
        execute(
            conn,
            format!("CREATE UNIQUE INDEX {index} ON {t} ({key_list})"),
        )
        .await?;
        return Ok(());
    }
    execute(
        conn,
        format!("CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {t} ({key_list})"),
    )
    .await
    .with_context(|| {
        format!(
            "table `{table}` already holds rows with the same key ({}); a merge needs it unique",
            keys.join(", ")
        )
    })?;
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let names = names.join(", ");
    let set: Vec<String> = columns
        .iter()
        .filter(|c| !keys.iter().any(|k| k.eq_ignore_ascii_case(&c.name)))
        .map(|c| format!("{0} = excluded.{0}", quote(&c.name)))
        .collect();
    let action = if set.is_empty() {
        "NOTHING".to_string()
    } else {
        format!("UPDATE SET {}", set.join(", "))
    };
    // `WHERE true`: SQLite's parser needs it between a SELECT and ON CONFLICT.
    execute(
        conn,
        format!(
            "INSERT INTO {t} ({names}) SELECT {names} FROM {STAGING} WHERE true ON CONFLICT ({key_list}) DO {action}"
        ),
    )
    .await?;
    execute(conn, format!("DROP TABLE {STAGING}")).await
}

/// The unique index a merge keeps on a table's key: one name per table and
/// key, so later merges find it.
fn index_name(table: &str, keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
    format!(
        "{RESERVED_PREFIX}key:{}({})",
        table.to_ascii_lowercase(),
        keys.join(",")
    )
}

/// Staging rows are numbered from 1 in file order (a fresh table's rowids).
async fn refuse_null_keys(conn: &mut SqliteConnection, keys: &[&str]) -> Result<()> {
    for k in keys {
        let row: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT min(rowid) FROM {STAGING} WHERE {} IS NULL",
            quote(k)
        )))
        .fetch_one(&mut *conn)
        .await?;
        if let Some(row) = row {
            bail!(
                "row {row} of the file has no value (NULL) in key column `{k}`; a merge needs every key"
            );
        }
    }
    Ok(())
}

async fn refuse_duplicate_keys(conn: &mut SqliteConnection, keys: &[&str]) -> Result<()> {
    let cols: Vec<String> = keys.iter().map(|k| quote(k)).collect();
    // quote(): the key as an SQL literal, so 3 and '3' read differently.
    let shown: Vec<String> = keys
        .iter()
        .map(|k| format!("'{} = ' || quote({})", k.replace('\'', "''"), quote(k)))
        .collect();
    let sql = format!(
        "SELECT {} AS shown, count(*) AS n, min(rowid) AS first, max(rowid) AS last FROM {STAGING} GROUP BY {} HAVING count(*) > 1 ORDER BY min(rowid) LIMIT 1",
        shown.join(" || ', ' || "),
        cols.join(", ")
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(r) = found {
        let shown: String = r.try_get("shown")?;
        let (n, first, last): (i64, i64, i64) =
            (r.try_get("n")?, r.try_get("first")?, r.try_get("last")?);
        bail!(
            "the file has key {shown} {n} times (rows {first} and {last}{}); a merge needs each key once",
            if n > 2 { " among them" } else { "" }
        );
    }
    Ok(())
}
