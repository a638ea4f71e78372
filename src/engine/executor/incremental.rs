//! Where an incremental export starts and what it read: the column's kind
//! from the source's catalog, the lower bound from the store (as the
//! scheduler found it, `ExportStart`) or from `--since`, less `lookback`.

use super::Failure;
use crate::config::duration::parse_duration;
use crate::config::{Scalar, TaskDef};
use crate::connectors::source::mark::{Above, Lookback, Mark, MarkKind};
use crate::connectors::source::{Column, TableName};
use crate::engine::store::{ExportRange, ExportStart};

/// An incremental export as it will run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub column: String,
    pub kind: MarkKind,
    /// None: from the first row.
    pub above: Option<Mark>,
    /// False for `--since`: the range moves no mark.
    pub advances: bool,
}

impl Plan {
    pub fn filter(&self) -> Option<Above> {
        self.above.map(|mark| Above {
            column: self.column.clone(),
            mark,
        })
    }

    /// What was read, for the store, given the largest value seen.
    pub fn read(&self, through: Option<Mark>, rows: i64) -> ExportRange {
        ExportRange {
            column: self.column.clone(),
            kind: self.kind.name().to_string(),
            above: self.above.map(|m| m.text()),
            through: through.map(|m| m.text()),
            rows,
            advances: self.advances,
        }
    }

    /// For the task log: `rows of "updated_at" above 2026-… (mark 2026-…, lookback 10m)`.
    pub fn describe(&self) -> String {
        match self.above {
            Some(m) => format!("rows with `{}` above {m}", self.column),
            None => format!("every row (first run following `{}`)", self.column),
        }
    }
}

/// The plan of an incremental export of `table` (None when the task is not
/// incremental). Every refusal is final: another attempt would refuse too.
pub fn plan(
    task: &TaskDef,
    table: &TableName,
    columns: &[Column],
    start: Option<&ExportStart>,
) -> Result<Option<Plan>, Failure> {
    let Some(column) = &task.incremental else {
        return Ok(None);
    };
    let col = columns.iter().find(|c| &c.name == column).ok_or_else(|| {
        Failure::fatal(format!(
            "`incremental = \"{column}\"`: {table} has no column `{column}`"
        ))
    })?;
    let kind = MarkKind::of(&col.ty.arrow).ok_or_else(|| {
        Failure::fatal(format!(
            "`incremental = \"{column}\"`: column `{column}` of {table} is {}, not a column that only grows (an integer or a timestamp)",
            col.ty.db_type
        ))
    })?;
    let parse = |what: &str, v: &str| {
        Mark::parse(kind, v).map_err(|e| Failure::fatal(format!("`{what}`: {e}")))
    };
    let fixed = |above, advances| {
        Ok(Some(Plan {
            column: column.clone(),
            kind,
            above,
            advances,
        }))
    };
    if let Some(since) = &task.since {
        return fixed(Some(parse("--since", since)?), false);
    }
    match start {
        // The same lower bound as this run's first read of the task.
        Some(ExportStart::Again(r)) => {
            same_column(column, &r.column, &r.kind, kind, "this run read")?;
            let above = r
                .above
                .as_deref()
                .map(|a| parse("the range read", a))
                .transpose()?;
            fixed(above, r.advances)
        }
        Some(ExportStart::Mark(m)) => {
            same_column(column, &m.column, &m.kind, kind, "the mark follows")?;
            let mark = parse("the mark", &m.mark)?;
            let above = match &task.lookback {
                None => mark,
                Some(l) => mark
                    .less(&lookback(l)?)
                    .map_err(|e| Failure::fatal(e.to_string()))?,
            };
            fixed(Some(above), true)
        }
        Some(ExportStart::First) | None => {
            let above = task
                .initial
                .as_ref()
                .map(|v| parse("initial", &v.to_string()))
                .transpose()?;
            fixed(above, true)
        }
    }
}

/// A mark kept for another column, or for a column whose type changed, is
/// not silently reused: the on-call engineer decides.
fn same_column(
    column: &str,
    was: &str,
    was_kind: &str,
    kind: MarkKind,
    what: &str,
) -> Result<(), Failure> {
    if was == column && was_kind == kind.name() {
        return Ok(());
    }
    Err(Failure::fatal(format!(
        "`incremental = \"{column}\"` ({}): {what} `{was}` ({was_kind}); an export cannot carry a mark over to another column or type (`switchyard export --since` exports a range by hand)",
        kind.name()
    )))
}

fn lookback(l: &Scalar) -> Result<Lookback, Failure> {
    match l {
        Scalar::Int(n) => Ok(Lookback::Values(*n)),
        Scalar::Text(s) => parse_duration(s)
            .map(Lookback::Duration)
            .map_err(|e| Failure::fatal(format!("`lookback`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, TimeUnit};

    use super::*;
    use crate::engine::store::ExportMark;
    use crate::format::types::{ColumnType, Fidelity, WarehouseType};

    fn column(name: &str, arrow: DataType, db: &str) -> Column {
        Column {
            name: name.into(),
            nullable: false,
            ty: ColumnType {
                db_type: db.into(),
                arrow,
                warehouse: WarehouseType::String,
                fidelity: Fidelity::Exact,
            },
        }
    }

    fn table() -> TableName {
        TableName {
            schema: "public".into(),
            name: "orders".into(),
        }
    }

    fn cols() -> Vec<Column> {
        vec![
            column("id", DataType::Int64, "bigint"),
            column(
                "updated_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "timestamptz",
            ),
            column("note", DataType::Utf8, "text"),
        ]
    }

    fn task(col: &str) -> TaskDef {
        TaskDef {
            incremental: Some(col.into()),
            ..TaskDef::default()
        }
    }

    #[test]
    fn the_first_run_reads_everything_or_from_initial() {
        let p = plan(&task("id"), &table(), &cols(), Some(&ExportStart::First))
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.above, p.advances, p.kind),
            (None, true, MarkKind::Integer)
        );
        let mut t = task("updated_at");
        t.initial = Some(Scalar::Text("2026-01-01".into()));
        let p = plan(&t, &table(), &cols(), None).unwrap().unwrap();
        assert_eq!(
            p.above.map(|m| m.text()).as_deref(),
            Some("2026-01-01T00:00:00.000000Z")
        );
    }

    #[test]
    fn a_mark_is_read_less_the_lookback_and_a_rerun_reads_the_same_range() {
        let mut t = task("updated_at");
        t.lookback = Some(Scalar::Text("10m".into()));
        let mark = ExportStart::Mark(ExportMark {
            column: "updated_at".into(),
            kind: "timestamp".into(),
            mark: "2026-12-07T03:00:00.000000Z".into(),
            run_id: 4,
        });
        let p = plan(&t, &table(), &cols(), Some(&mark)).unwrap().unwrap();
        assert_eq!(p.above.unwrap().text(), "2026-12-07T02:50:00.000000Z");
        let again = ExportStart::Again(p.read(None, 0));
        let p2 = plan(&t, &table(), &cols(), Some(&again)).unwrap().unwrap();
        assert_eq!(p2.above, p.above, "no second lookback on a rerun");
    }

    #[test]
    fn refusals_name_the_column_and_are_final() {
        let e = plan(&task("note"), &table(), &cols(), None).unwrap_err();
        assert!(!e.retryable);
        assert!(
            e.message.contains("`note`") && e.message.contains("text"),
            "{e:?}"
        );
        let e = plan(&task("nope"), &table(), &cols(), None).unwrap_err();
        assert!(e.message.contains("no column `nope`"), "{e:?}");
        let other = ExportStart::Mark(ExportMark {
            column: "id".into(),
            kind: "integer".into(),
            mark: "7".into(),
            run_id: 1,
        });
        let e = plan(&task("updated_at"), &table(), &cols(), Some(&other)).unwrap_err();
        assert!(e.message.contains("another column"), "{e:?}");
        let mut t = task("id");
        t.lookback = Some(Scalar::Text("10m".into()));
        let e = plan(&t, &table(), &cols(), Some(&other)).unwrap_err();
        assert!(e.message.contains("number of values"), "{e:?}");
    }

    #[test]
    fn since_is_a_fixed_range_that_moves_no_mark() {
        let mut t = task("id");
        t.since = Some("41".into());
        let p = plan(&t, &table(), &cols(), Some(&ExportStart::First))
            .unwrap()
            .unwrap();
        assert_eq!((p.above.unwrap().value, p.advances), (41, false));
    }
}
