//! A batch with every Arrow type the source readers produce, with nulls,
//! edge values and non-ASCII text, for the writers' tests.

use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, Int64Builder, LargeListBuilder, ListBuilder, StringBuilder,
};
use arrow_array::types::Decimal256Type;
use arrow_array::*;
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::types::{ColumnType, Fidelity, WarehouseType, arrow_field};

/// arrow-array does not re-export arrow-buffer's i256.
type I256 = <Decimal256Type as ArrowPrimitiveType>::Native;

pub(crate) const DAY_US: i64 = 86_400_000_000;
/// 2026-01-02T03:04:05.123456 in µs since the epoch.
pub(crate) const TS: i64 = 20_455 * DAY_US + 11_045_123_456;

fn json_type(arrow: DataType, warehouse: WarehouseType) -> ColumnType {
    ColumnType {
        db_type: "jsonb".into(),
        arrow,
        warehouse,
        fidelity: Fidelity::Exact,
    }
}

pub(crate) fn every_type() -> RecordBatch {
    let json_item = arrow_field("j", &json_type(DataType::Utf8, WarehouseType::Json), true);
    let json_list = arrow_field(
        "lj",
        &json_type(
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            WarehouseType::Repeated(Box::new(WarehouseType::Json)),
        ),
        true,
    );
    let DataType::List(json_list_item) = json_list.data_type().clone() else {
        unreachable!()
    };

    let mut li = ListBuilder::new(Int64Builder::new());
    li.append_value([Some(1), None, Some(3)]);
    li.append_value([]);
    li.append_null();
    let mut ls = ListBuilder::new(StringBuilder::new());
    ls.append_value([Some("a,b"), Some("ü\"")]);
    ls.append_value([None::<&str>]);
    ls.append_null();
    let mut lj = ListBuilder::new(StringBuilder::new()).with_field(json_list_item);
    lj.append_value([Some("{\"k\": [1, \"x\"]}"), None]);
    lj.append_value([] as [Option<&str>; 0]);
    lj.append_null();
    let mut ll = LargeListBuilder::new(Float64Builder::new());
    ll.append_value([Some(1.0), Some(f64::NAN)]);
    ll.append_null();
    ll.append_value([]);

    let utc = |v: Vec<Option<i64>>| TimestampMicrosecondArray::from(v).with_timezone("UTC");
    let columns: Vec<(Field, ArrayRef)> = vec![
        col("b", BooleanArray::from(vec![Some(true), Some(false), None])),
        col(
            "i8",
            Int8Array::from(vec![Some(i8::MIN), Some(i8::MAX), None]),
        ),
        col(
            "i16",
            Int16Array::from(vec![Some(i16::MIN), Some(i16::MAX), None]),
        ),
        col(
            "i32",
            Int32Array::from(vec![Some(i32::MIN), Some(i32::MAX), None]),
        ),
        col(
            "i64",
            Int64Array::from(vec![Some(i64::MIN), Some((1 << 53) + 1), None]),
        ),
        col("u8", UInt8Array::from(vec![Some(0), Some(u8::MAX), None])),
        col(
            "u16",
            UInt16Array::from(vec![Some(0), Some(u16::MAX), None]),
        ),
        col(
            "u32",
            UInt32Array::from(vec![Some(0), Some(u32::MAX), None]),
        ),
        col(
            "u64",
            UInt64Array::from(vec![Some(0), Some(u64::MAX), None]),
        ),
        col(
            "f32",
            Float32Array::from(vec![Some(0.1), Some(f32::NAN), None]),
        ),
        col(
            "f64",
            Float64Array::from(vec![Some(-1e300), Some(f64::INFINITY), None]),
        ),
        col(
            "d128",
            Decimal128Array::from(vec![Some(1230), Some(-5), None])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        ),
        col(
            "d256",
            Decimal256Array::from(vec![
                Some(I256::from_string("-12345678901234567890123456789012345678901").unwrap()),
                Some(I256::from_i128(7)),
                None,
            ])
            .with_precision_and_scale(50, 3)
            .unwrap(),
        ),
        col(
            "s",
            StringArray::from(vec![
                Some("héllo, \"wörld\"\r\n"),
                Some("日本\t\u{1}"),
                None,
            ]),
        ),
        col(
            "ls",
            LargeStringArray::from(vec![Some(""), Some("plain"), None]),
        ),
        (
            json_item,
            Arc::new(StringArray::from(vec![
                Some("{\"a\": [1, 2.50, \"ü\"],\n \"n\": 12345678901234567890123}"),
                Some("\"x,y\""),
                None,
            ])),
        ),
        col(
            "bin",
            BinaryArray::from(vec![Some(&b"\x00\xff"[..]), Some(b""), None]),
        ),
        col(
            "lbin",
            LargeBinaryArray::from(vec![Some(&b"foo"[..]), Some(b"fo"), None]),
        ),
        col("d", Date32Array::from(vec![Some(20_455), Some(-1), None])),
        col(
            "t",
            Time64MicrosecondArray::from(vec![Some(11_045_123_456), Some(0), None]),
        ),
        col("ts", utc(vec![Some(TS), Some(-1), None])),
        col(
            "tsn",
            TimestampMicrosecondArray::from(vec![Some(TS), Some(0), None]),
        ),
        col("li", li.finish()),
        col("lstr", ls.finish()),
        (json_list, Arc::new(lj.finish())),
        col("ll", ll.finish()),
    ];
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn col(name: &str, array: impl Array + 'static) -> (Field, ArrayRef) {
    (
        Field::new(name, array.data_type().clone(), true),
        Arc::new(array),
    )
}

/// A timestamp column of the given unit and zone, for refusal tests.
pub(crate) fn ts_schema(unit: TimeUnit, tz: Option<&str>) -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new(
        "when",
        DataType::Timestamp(unit, tz.map(Into::into)),
        true,
    )]))
}
