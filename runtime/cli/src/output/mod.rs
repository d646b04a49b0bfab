//! Rendering captures, prefixes and entities as a table, JSON lines, or
//! pipe-separated elements (bgpkit-parser's or bgpdump's).

mod bgpdump;
pub mod json;
mod psv;
mod table;
pub mod text;

use std::io::Write;

use bgpmon_proto::v1;
use clap::ValueEnum;

use json::{CaptureJson, EntityJson, PrefixJson};

use crate::filter::ElementFilter;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON object per line, with stable field names.
    Json,
    /// One pipe-separated line per prefix element, in bgpkit-parser's PSV
    /// field order, after its header line.
    Psv,
    /// The lines `bgpdump -m` prints for the same MRT file: withdrawals
    /// (`W`), announcements (`A`) and RIB entries (`B`). Captures only.
    Bgpdump,
}

impl Format {
    /// Whether the format can print prefix events and entities, not only
    /// captures.
    pub fn prints_more_than_captures(self) -> bool {
        self != Self::Bgpdump
    }
}

/// The error for a format that prints only captures, asked to print
/// something else.
fn captures_only() -> std::io::Error {
    std::io::Error::other(
        "--format bgpdump prints captures only; use it with \"bgpmon read captures\"",
    )
}

/// Writes captures in one format; a table and PSV write their header first.
pub struct CaptureWriter<W: Write> {
    out: W,
    format: Format,
    header_done: bool,
    elements: ElementFilter,
}

impl<W: Write> CaptureWriter<W> {
    /// A writer of `format` to `out`.
    pub fn new(out: W, format: Format) -> Self {
        Self {
            out,
            format,
            header_done: false,
            elements: ElementFilter::default(),
        }
    }

    /// Prints, in PSV, only the elements `elements` keeps: a capture
    /// matched by a prefix term prints the prefixes that matched it.
    pub fn with_elements(mut self, elements: ElementFilter) -> Self {
        self.elements = elements;
        self
    }

    /// Writes one capture.
    ///
    /// Returns an error if writing fails (a closed pipe among them).
    pub fn write(&mut self, capture: &v1::Capture) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut self.out, &CaptureJson::from(capture))?;
                writeln!(self.out)
            }
            Format::Psv => {
                if !self.header_done {
                    psv::capture_header(&mut self.out)?;
                    self.header_done = true;
                }
                psv::write_capture(&mut self.out, capture, &self.elements)
            }
            Format::Bgpdump => bgpdump::write_capture(&mut self.out, capture, &self.elements),
            Format::Table => {
                if !self.header_done {
                    table::capture_header(&mut self.out)?;
                    self.header_done = true;
                }
                table::capture_row(&mut self.out, capture)
            }
        }
    }

    /// Writes one prefix event.
    ///
    /// Returns an error if writing fails, or for [`Format::Bgpdump`], which
    /// prints captures only.
    pub fn write_prefix(&mut self, event: &v1::PrefixEvent) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut self.out, &PrefixJson::from(event))?;
                writeln!(self.out)
            }
            Format::Psv => psv::write_prefix(&mut self.out, event),
            Format::Bgpdump => Err(captures_only()),
            Format::Table => {
                if !self.header_done {
                    table::prefix_header(&mut self.out)?;
                    self.header_done = true;
                }
                table::prefix_row(&mut self.out, event)
            }
        }
    }

    /// Writes one entity; PSV writes one line per owned prefix.
    ///
    /// Returns an error if writing fails, or for [`Format::Bgpdump`].
    pub fn write_entity(&mut self, entity: &v1::Entity) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut self.out, &EntityJson::from(entity))?;
                writeln!(self.out)
            }
            Format::Psv => psv::write_entity(&mut self.out, entity),
            Format::Bgpdump => Err(captures_only()),
            Format::Table => {
                if !self.header_done {
                    table::entity_header(&mut self.out)?;
                    self.header_done = true;
                }
                table::entity_row(&mut self.out, entity)
            }
        }
    }

    /// Flushes the output.
    ///
    /// Returns an error if writing fails.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
