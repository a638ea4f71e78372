//! Helpers for source tests: run an export into a channel and read the
//! decoded Arrow values back, column by column, across batches.
#![allow(dead_code)]

// The same file as `common::live` (a binary may include both).
#[allow(clippy::duplicate_mod)]
#[path = "../common/live.rs"]
pub mod live;

use std::sync::{Arc, Mutex};

use anyhow::Result;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Time64MicrosecondType, TimestampMicrosecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use switchyard::connectors::source::{
    ExportInput, ExportMsg, ExportOptions, ExportStats, ProgressFn, Source,
};

#[derive(Debug)]
pub struct Exported {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub stats: ExportStats,
    /// Every progress report, (rows, bytes) so far.
    pub progress: Vec<(i64, i64)>,
}

pub async fn export(src: &dyn Source, input: ExportInput, opts: ExportOptions) -> Result<Exported> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress: ProgressFn = Arc::new(move |r, b| sink.lock().unwrap().push((r, b)));
    let collect = async {
        let mut schema = None;
        let mut batches = Vec::new();
        while let Some(msg) = rx.recv().await {
            match msg {
                ExportMsg::Schema(s) => {
                    assert!(
                        schema.is_none() && batches.is_empty(),
                        "schema comes first, once"
                    );
                    schema = Some(s);
                }
                ExportMsg::Batch(b) => {
                    assert!(schema.is_some(), "a batch before the schema");
                    batches.push(b);
                }
            }
        }
        (schema, batches)
    };
    let (stats, (schema, batches)) = tokio::join!(src.export(&input, &opts, tx, progress), collect);
    let stats = stats?;
    let progress = seen.lock().unwrap().clone();
    Ok(Exported {
        schema: schema.expect("a schema"),
        batches,
        stats,
        progress,
    })
}

impl Exported {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    pub fn arrays(&self, name: &str) -> Vec<ArrayRef> {
        self.batches
            .iter()
            .map(|b| {
                b.column_by_name(name)
                    .unwrap_or_else(|| panic!("no column {name}"))
                    .clone()
            })
            .collect()
    }
}

macro_rules! primitive {
    ($fn:ident, $t:ty, $native:ty) => {
        pub fn $fn(e: &Exported, name: &str) -> Vec<Option<$native>> {
            e.arrays(name)
                .iter()
                .flat_map(|a| a.as_primitive::<$t>().iter().collect::<Vec<_>>())
                .collect()
        }
    };
}

primitive!(i8s, Int8Type, i8);
primitive!(i16s, Int16Type, i16);
primitive!(i32s, Int32Type, i32);
primitive!(i64s, Int64Type, i64);
primitive!(f32s, Float32Type, f32);
primitive!(f64s, Float64Type, f64);
primitive!(decimals, Decimal128Type, i128);
primitive!(dates, Date32Type, i32);
primitive!(times, Time64MicrosecondType, i64);
primitive!(timestamps, TimestampMicrosecondType, i64);

pub fn bools(e: &Exported, name: &str) -> Vec<Option<bool>> {
    e.arrays(name)
        .iter()
        .flat_map(|a| a.as_boolean().iter().collect::<Vec<_>>())
        .collect()
}

pub fn strings(e: &Exported, name: &str) -> Vec<Option<String>> {
    e.arrays(name)
        .iter()
        .flat_map(|a| {
            a.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn bytes(e: &Exported, name: &str) -> Vec<Option<Vec<u8>>> {
    e.arrays(name)
        .iter()
        .flat_map(|a| {
            a.as_binary::<i32>()
                .iter()
                .map(|v| v.map(<[u8]>::to_vec))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn nulls(e: &Exported, name: &str) -> usize {
    e.arrays(name).iter().map(|a| a.null_count()).sum()
}

/// Days since 1970-01-01.
pub fn days(y: i32, m: u32, d: u32) -> i32 {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

/// Microseconds since 1970-01-01 00:00:00.
pub fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> i64 {
    i64::from(days(y, mo, d)) * 86_400_000_000
        + ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(s)) * 1_000_000
        + i64::from(us)
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}
