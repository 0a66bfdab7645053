//! The salesops CSV export: one row at a time to any writer, in the format [`crate::parse`]
//! reads back with the `salesops` preset into the same rows.
//!
//! Text cells go through [`escape_cell`] (formula injection); numbers, dates, timestamps
//! (RFC 3339, UTC), currency codes and enum values are written plainly.

use std::fmt::{Display, Write as _};
use std::io::Write;

use csv::ByteRecord;

use crate::fields::export_header;
use crate::parse::escape_history;
use crate::text::escape_cell;
use crate::{AccountRow, ActivityRow, ContactRow, Entity, LeadRow, OpportunityRow, Ref, Rows};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the CSV failed: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the CSV failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("this export is for {expected}, not {got}")]
    WrongEntity { expected: Entity, got: Entity },
}

mod sealed {
    pub trait Sealed {}
}

/// A row type the [`Exporter`] can write: [`AccountRow`], [`ContactRow`], [`LeadRow`],
/// [`OpportunityRow`] or [`ActivityRow`].
pub trait ExportRow: sealed::Sealed {
    const ENTITY: Entity;
    #[doc(hidden)]
    fn write_cells(&self, cells: &mut Cells);
}

/// Scratch space for one output record.
#[doc(hidden)]
pub struct Cells {
    rec: ByteRecord,
    tmp: String,
}

impl Cells {
    fn text(&mut self, s: &str) {
        self.rec.push_field(escape_cell(s).as_bytes());
    }

    fn opt_text(&mut self, s: Option<&str>) {
        self.text(s.unwrap_or(""));
    }

    fn show(&mut self, v: impl Display) {
        self.tmp.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.tmp, "{v}");
        self.rec.push_field(self.tmp.as_bytes());
    }

    fn opt_show(&mut self, v: Option<impl Display>) {
        match v {
            Some(v) => self.show(v),
            None => self.rec.push_field(b""),
        }
    }

    /// Three cells: salesops id, external id, name; one of them filled.
    fn reference(&mut self, r: Option<&Ref>) {
        match r {
            Some(Ref::Id(id)) => {
                self.show(id);
                self.rec.push_field(b"");
                self.rec.push_field(b"");
            }
            Some(Ref::External(e)) => {
                self.rec.push_field(b"");
                self.text(e);
                self.rec.push_field(b"");
            }
            Some(Ref::Name(n)) => {
                self.rec.push_field(b"");
                self.rec.push_field(b"");
                self.text(n);
            }
            None => {
                for _ in 0..3 {
                    self.rec.push_field(b"");
                }
            }
        }
    }
}

/// Writes the salesops CSV (header first, then one record per call, CRLF line ends, UTF-8).
pub struct Exporter<W: Write> {
    w: csv::Writer<W>,
    entity: Entity,
    cells: Cells,
}

impl<W: Write> Exporter<W> {
    /// Writes the header of `entity`'s export.
    pub fn new(out: W, entity: Entity) -> Result<Self, ExportError> {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
        w.write_record(export_header(entity))?;
        Ok(Exporter { w, entity, cells: Cells { rec: ByteRecord::new(), tmp: String::new() } })
    }

    pub fn entity(&self) -> Entity {
        self.entity
    }

    pub fn write<R: ExportRow>(&mut self, row: &R) -> Result<(), ExportError> {
        if R::ENTITY != self.entity {
            return Err(ExportError::WrongEntity { expected: self.entity, got: R::ENTITY });
        }
        self.cells.rec.clear();
        row.write_cells(&mut self.cells);
        self.w.write_byte_record(&self.cells.rec)?;
        Ok(())
    }

    pub fn write_rows(&mut self, rows: &Rows) -> Result<(), ExportError> {
        match rows {
            Rows::Accounts(v) => v.iter().try_for_each(|r| self.write(r)),
            Rows::Contacts(v) => v.iter().try_for_each(|r| self.write(r)),
            Rows::Leads(v) => v.iter().try_for_each(|r| self.write(r)),
            Rows::Opportunities(v) => v.iter().try_for_each(|r| self.write(r)),
            Rows::Activities(v) => v.iter().try_for_each(|r| self.write(r)),
        }
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, ExportError> {
        self.w.into_inner().map_err(|e| ExportError::Io(e.into_error()))
    }
}

/// Writes `rows` as a complete salesops CSV file.
pub fn export<W: Write>(rows: &Rows, out: W) -> Result<W, ExportError> {
    let mut e = Exporter::new(out, rows.entity())?;
    e.write_rows(rows)?;
    e.finish()
}

impl sealed::Sealed for AccountRow {}
impl ExportRow for AccountRow {
    const ENTITY: Entity = Entity::Accounts;
    fn write_cells(&self, c: &mut Cells) {
        c.opt_show(self.id);
        c.opt_text(self.external_id.as_deref());
        c.text(&self.name);
        c.text(&self.industry);
        c.opt_show(self.employees);
        c.text(&self.country);
        c.text(&self.city);
        c.text(&self.postal_code);
        c.opt_text(self.time_zone.as_deref());
        c.opt_text(self.domain.as_deref());
        c.opt_text(self.phone.as_deref());
        c.opt_text(self.owner_email.as_deref());
        c.reference(self.parent.as_ref());
        c.opt_show(self.currency);
        c.opt_show(self.created_at);
    }
}

impl sealed::Sealed for ContactRow {}
impl ExportRow for ContactRow {
    const ENTITY: Entity = Entity::Contacts;
    fn write_cells(&self, c: &mut Cells) {
        c.opt_show(self.id);
        c.opt_text(self.external_id.as_deref());
        c.text(&self.first_name);
        c.text(&self.last_name);
        c.opt_text(self.email.as_deref());
        c.opt_text(self.phone.as_deref());
        c.text(&self.title);
        c.reference(self.account.as_ref());
        c.opt_text(self.owner_email.as_deref());
        c.opt_show(self.created_at);
    }
}

impl sealed::Sealed for LeadRow {}
impl ExportRow for LeadRow {
    const ENTITY: Entity = Entity::Leads;
    fn write_cells(&self, c: &mut Cells) {
        c.opt_show(self.id);
        c.opt_text(self.external_id.as_deref());
        c.text(&self.first_name);
        c.text(&self.last_name);
        c.text(&self.company);
        c.opt_text(self.email.as_deref());
        c.opt_text(self.phone.as_deref());
        c.text(&self.source);
        c.text(&self.campaign);
        c.opt_show(self.status.map(|s| s.as_str()));
        c.opt_text(self.disqualify_reason.as_deref());
        c.opt_text(self.owner_email.as_deref());
        c.opt_show(self.created_at);
    }
}

impl sealed::Sealed for OpportunityRow {}
impl ExportRow for OpportunityRow {
    const ENTITY: Entity = Entity::Opportunities;
    fn write_cells(&self, c: &mut Cells) {
        c.opt_show(self.id);
        c.opt_text(self.external_id.as_deref());
        c.text(&self.name);
        c.reference(Some(&self.account));
        c.opt_text(self.owner_email.as_deref());
        c.opt_text(self.pipeline.as_deref());
        c.text(&self.stage);
        c.show(self.amount.amount);
        c.show(self.amount.currency);
        c.show(self.close_date);
        c.opt_show(self.probability);
        c.opt_show(self.forecast_category.map(|f| f.as_str()));
        c.opt_text(self.loss_reason.as_deref());
        c.opt_text(self.lead_source.as_deref());
        c.opt_show(self.engaged_on);
        c.opt_show(self.created_at);
        let mut history = String::new();
        for (i, (stage, at)) in self.stage_entered.iter().enumerate() {
            if i > 0 {
                history.push(';');
            }
            escape_history(stage, &mut history);
            let _ = write!(history, "@{at}");
        }
        c.text(&history);
    }
}

impl sealed::Sealed for ActivityRow {}
impl ExportRow for ActivityRow {
    const ENTITY: Entity = Entity::Activities;
    fn write_cells(&self, c: &mut Cells) {
        c.opt_show(self.id);
        c.opt_text(self.external_id.as_deref());
        c.show(self.kind.as_str());
        c.text(&self.subject);
        c.show(self.at);
        c.opt_show(self.duration_seconds);
        c.opt_text(self.outcome.as_deref());
        c.opt_text(self.address.as_deref());
        c.opt_text(self.owner_email.as_deref());
        c.reference(self.account.as_ref());
        c.reference(self.opportunity.as_ref());
        c.reference(self.contact.as_ref());
        c.reference(self.lead.as_ref());
    }
}
