//! `bgpmon findings SESSION`: the findings modules reported to a session.

use std::io::{BufWriter, Write};

use bgpmon_proto::v1;
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::client::{Client, status_error};
use crate::time::format_micros;

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FindingFormat {
    /// One line per finding for people: number, time, module, kind,
    /// summary, then its fields.
    Table,
    /// One JSON object per line: `seq`, `time`, `time_us`, `module_id`,
    /// `module_type`, `kind`, `summary` and `fields` (an object, in the
    /// order the module gave them).
    Json,
}

/// `bgpmon findings`.
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// The session to read.
    session: String,
    /// Only the findings of this module id.
    #[arg(long, value_name = "ID")]
    module: Option<String>,
    /// Only those of modules of this type.
    #[arg(long = "type", value_name = "TYPE")]
    module_type: Option<String>,
    /// Only those of this kind.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Start after the finding with this number.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    after: u64,
    /// Keep printing findings as modules report them, until interrupted.
    #[arg(long)]
    follow: bool,
    /// The output format.
    #[arg(long, value_enum, default_value = "table")]
    format: FindingFormat,
}

/// A finding as one JSON object.
#[derive(Debug, Serialize)]
struct FindingJson<'a> {
    seq: u64,
    time: String,
    time_us: u64,
    module_id: &'a str,
    module_type: &'a str,
    kind: &'a str,
    summary: &'a str,
    fields: OrderedFields<'a>,
}

/// A finding's fields as one JSON object, in the order the module gave
/// them.
#[derive(Debug)]
struct OrderedFields<'a>(&'a [v1::FindingField]);

impl Serialize for OrderedFields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for field in self.0 {
            map.serialize_entry(&field.name, &field.value)?;
        }
        map.end()
    }
}

fn write_finding(
    out: &mut impl Write,
    format: FindingFormat,
    f: &v1::StoredFinding,
) -> anyhow::Result<()> {
    match format {
        FindingFormat::Table => {
            writeln!(
                out,
                "#{} {} {} ({}) {}: {}",
                f.seq,
                format_micros(f.time_us),
                f.module_id,
                f.module_type,
                f.kind,
                f.summary
            )?;
            if !f.fields.is_empty() {
                let fields: Vec<String> = f
                    .fields
                    .iter()
                    .map(|field| format!("{}={}", field.name, field.value))
                    .collect();
                writeln!(out, "    {}", fields.join(" "))?;
            }
        }
        FindingFormat::Json => {
            let json = FindingJson {
                seq: f.seq,
                time: format_micros(f.time_us),
                time_us: f.time_us,
                module_id: &f.module_id,
                module_type: &f.module_type,
                kind: &f.kind,
                summary: &f.summary,
                fields: OrderedFields(&f.fields),
            };
            serde_json::to_writer(&mut *out, &json)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

impl FindingsArgs {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        let mut stream = client
            .read_findings(v1::ReadFindingsRequest {
                session_id: self.session,
                module_id: self.module.unwrap_or_default(),
                module_type: self.module_type.unwrap_or_default(),
                kind: self.kind.unwrap_or_default(),
                after: self.after,
                follow: self.follow,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        let mut out = BufWriter::new(std::io::stdout().lock());
        let mut printed = 0u64;
        while let Some(batch) = stream.message().await.map_err(status_error)? {
            for f in &batch.findings {
                write_finding(&mut out, self.format, f)?;
                printed += 1;
            }
            out.flush()?;
        }
        if printed == 0 && self.format == FindingFormat::Table {
            eprintln!("no findings");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> v1::StoredFinding {
        v1::StoredFinding {
            seq: 7,
            time_us: 1_546_300_800_000_000,
            module_id: "h1".into(),
            module_type: "hijack".into(),
            kind: "exact-prefix-hijack".into(),
            summary: "AS64500 announced 192.0.2.0/24".into(),
            fields: vec![
                v1::FindingField {
                    name: "prefix".into(),
                    value: "192.0.2.0/24".into(),
                },
                v1::FindingField {
                    name: "asn".into(),
                    value: "64500".into(),
                },
            ],
        }
    }

    fn printed(format: FindingFormat) -> String {
        let mut out = Vec::new();
        write_finding(&mut out, format, &finding()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_table_row_names_the_module_and_lists_the_fields() {
        assert_eq!(
            printed(FindingFormat::Table),
            "#7 2019-01-01T00:00:00Z h1 (hijack) exact-prefix-hijack: AS64500 announced 192.0.2.0/24\n    prefix=192.0.2.0/24 asn=64500\n"
        );
    }

    #[test]
    fn json_keeps_the_fields_in_order() {
        assert_eq!(
            printed(FindingFormat::Json),
            concat!(
                r#"{"seq":7,"time":"2019-01-01T00:00:00Z","time_us":1546300800000000,"#,
                r#""module_id":"h1","module_type":"hijack","kind":"exact-prefix-hijack","#,
                r#""summary":"AS64500 announced 192.0.2.0/24","fields":{"prefix":"192.0.2.0/24","asn":"64500"}}"#,
                "\n"
            )
        );
    }
}
