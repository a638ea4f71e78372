//! Schema versions: the same numbered migrations on both backends, each
//! applied once in order and never edited once released. PostgreSQL takes
//! them through `postgres::dialect`. A store newer than this binary is
//! refused rather than written with an older idea of its tables.

use anyhow::{Context, Result};

use super::{Backend, Store, Tx, now_ms, postgres};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema.sql")),
    (2, include_str!("schema_v2.sql")),
    (3, include_str!("schema_v3.sql")),
    (4, include_str!("schema_v4.sql")),
    (5, include_str!("schema_v5.sql")),
];

fn newest() -> i64 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

impl Store {
    pub(super) async fn check_schema(&self) -> Result<()> {
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .with_context(|| format!("{} is not a switchyard state store", self.describe()))?;
        let newest = newest();
        match current {
            Some(v) if v == newest => Ok(()),
            Some(v) if v > newest => anyhow::bail!(
                "state store {} has schema version {v}, newer than this switchyard knows ({newest}); upgrade switchyard",
                self.describe()
            ),
            _ => anyhow::bail!(
                "state store {} needs a schema upgrade, which read-only mode does not do",
                self.describe()
            ),
        }
    }

    pub(super) async fn migrate(&self) -> Result<()> {
        // Writers take turns (`begin`), so two processes migrating a new
        // store at once apply each version once.
        let mut tx = self.begin().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await?;
        let current = current.unwrap_or(0);
        let newest = newest();
        if current > newest {
            anyhow::bail!(
                "state store {} has schema version {current}, newer than this switchyard knows ({newest}); upgrade switchyard",
                self.describe()
            );
        }
        for (version, sql) in MIGRATIONS {
            if *version <= current {
                continue;
            }
            let sql = match self.backend {
                Backend::Sqlite { .. } => (*sql).to_string(),
                Backend::Postgres { .. } => postgres::dialect(sql),
            };
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("state store migration {version} failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        probe_write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Fails with SQLITE_READONLY when this user cannot write the store: SQLite
/// opens a file it may not write read-only without saying so, and a
/// transaction that changes nothing succeeds. The probe row is rolled back.
async fn probe_write(tx: &mut Tx) -> Result<()> {
    let mut probe = sqlx::Acquire::begin(&mut *tx).await?;
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (-1, 0)")
        .execute(&mut *probe)
        .await?;
    probe.rollback().await?;
    Ok(())
}
