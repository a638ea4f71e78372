//! NDJSON: one JSON object per line, keys in schema order, rendered by hand
//! from the Arrow arrays (see `render` for how each type is written).

use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::render::{BUF_BYTES, columns};
use super::writer::{BatchWriter, check_schema};

pub struct NdjsonWriter<W: Write> {
    schema: SchemaRef,
    /// `"name":`, escaped once.
    keys: Vec<Vec<u8>>,
    out: BufWriter<W>,
    line: Vec<u8>,
}

impl<W: Write + Send> NdjsonWriter<W> {
    pub fn try_new(schema: SchemaRef, out: W) -> Result<Self> {
        check_schema(&schema)?;
        let keys = schema
            .fields()
            .iter()
            .map(|f| {
                let mut key = serde_json::to_vec(f.name())?;
                key.push(b':');
                Ok(key)
            })
            .collect::<Result<_>>()?;
        Ok(NdjsonWriter {
            schema,
            keys,
            out: BufWriter::with_capacity(BUF_BYTES, out),
            line: Vec::new(),
        })
    }
}

impl<W: Write + Send> BatchWriter<W> for NdjsonWriter<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let cols = columns(&self.schema, batch)?;
        for row in 0..batch.num_rows() {
            self.line.clear();
            self.line.push(b'{');
            for (i, col) in cols.iter().enumerate() {
                if i > 0 {
                    self.line.push(b',');
                }
                self.line.extend_from_slice(&self.keys[i]);
                let written = col.write(row, true, &mut self.line).with_context(|| {
                    format!("column `{}`, row {row}", self.schema.field(i).name())
                })?;
                if !written {
                    self.line.extend_from_slice(b"null");
                }
            }
            self.line.extend_from_slice(b"}\n");
            self.out.write_all(&self.line)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<W> {
        super::render::into_flushed(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;
    use crate::format::testdata::every_type;

    fn ndjson(batch: &RecordBatch) -> String {
        crate::format::testdata::written(Format::Ndjson, batch)
    }

    #[test]
    fn every_type_as_ndjson() {
        let expected = [
            r#"{"b":true,"i8":-128,"i16":-32768,"i32":-2147483648,"i64":-9223372036854775808,"u8":0,"u16":0,"u32":0,"u64":0,"f32":0.1,"f64":-1e+300,"d128":"12.30","d256":"-12345678901234567890123456789012345678.901","s":"héllo, \"wörld\"\r\n","ls":"","j":{"a": [1, 2.50, "ü"],  "n": 12345678901234567890123},"bin":"AP8=","lbin":"Zm9v","d":"2026-01-02","t":"03:04:05.123456","ts":"2026-01-02T03:04:05.123456Z","tsn":"2026-01-02T03:04:05.123456","li":[1,null,3],"lstr":["a,b","ü\""],"lj":[{"k": [1, "x"]},null],"ll":[1.0,null]}"#,
            r#"{"b":false,"i8":127,"i16":32767,"i32":2147483647,"i64":9007199254740993,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,"f32":null,"f64":null,"d128":"-0.05","d256":"0.007","s":"日本\t\u0001","ls":"plain","j":"x,y","bin":"","lbin":"Zm8=","d":"1969-12-31","t":"00:00:00.000000","ts":"1969-12-31T23:59:59.999999Z","tsn":"1970-01-01T00:00:00.000000","li":[],"lstr":[null],"lj":[],"ll":null}"#,
            r#"{"b":null,"i8":null,"i16":null,"i32":null,"i64":null,"u8":null,"u16":null,"u32":null,"u64":null,"f32":null,"f64":null,"d128":null,"d256":null,"s":null,"ls":null,"j":null,"bin":null,"lbin":null,"d":null,"t":null,"ts":null,"tsn":null,"li":null,"lstr":null,"lj":null,"ll":[]}"#,
        ];
        let out = ndjson(&every_type());
        assert_eq!(out, expected.map(|l| format!("{l}\n")).concat());
        // Every line is a JSON object that keeps big integers exact.
        let line: serde_json::Value = serde_json::from_str(out.lines().nth(1).unwrap()).unwrap();
        assert_eq!(line["i64"].as_u64(), Some((1 << 53) + 1));
        assert_eq!(line["u64"].as_u64(), Some(u64::MAX));
        assert_eq!(out.lines().count(), 3);
        // A sliced batch (offsets into shared buffers) writes the same rows.
        let tail = ndjson(&every_type().slice(1, 2));
        assert_eq!(
            tail,
            expected[1..]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
    }

    #[test]
    fn keys_are_escaped_and_bad_json_names_the_column() {
        let field = crate::format::types::arrow_field(
            "we\"ird\n",
            &crate::format::types::ColumnType {
                db_type: "json".into(),
                arrow: arrow_schema::DataType::Utf8,
                warehouse: crate::format::types::WarehouseType::Json,
                fidelity: crate::format::types::Fidelity::Exact,
            },
            true,
        );
        let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![field]));
        let batch = |v: &str| {
            let col = arrow_array::StringArray::from(vec![v]);
            RecordBatch::try_new(schema.clone(), vec![std::sync::Arc::new(col)]).unwrap()
        };
        assert_eq!(ndjson(&batch("[1,\r\n2]")), "{\"we\\\"ird\\n\":[1,  2]}\n");
        let mut w = NdjsonWriter::try_new(schema.clone(), Vec::new()).unwrap();
        let err = w.write(&batch("{\"a\":")).unwrap_err();
        assert!(
            format!("{err:#}").contains("column `we\"ird\n`, row 0: invalid JSON"),
            "{err:#}"
        );
    }
}
