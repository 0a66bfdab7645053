//! Reading a balancing instance from CSV text given by the caller (the CLI's
//! `salesops territory balance --units … --distances … --assignment …`).
//!
//! - units: `unit,workload,potential[,x,y]`;
//! - distances (optional when units have `x,y`): a matrix with header `unit,<id>,<id>,…` and one
//!   row per unit;
//! - assignment: `unit,rep[,home][,locked]`, where `home` (`yes`/`true`/`1`) marks the rep's home
//!   unit and `locked` locks the unit to its rep. Reps appear in order of first mention.

use std::collections::HashMap;
use std::io::Read;

use crate::Diagnostic;
use crate::balance::{BalanceProblem, Locations, Rep, Unit};

/// A CSV input problem, with the file and 1-based line at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct InputError {
    /// `units`, `distances` or `assignment`.
    pub file: &'static str,
    /// 1-based line (the header is line 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Read an instance. `bounds` are the workload bounds as factors of the mean.
pub fn read_instance(
    units: impl Read,
    distances: Option<&mut dyn Read>,
    assignment: impl Read,
    bounds: (f64, f64),
) -> Result<(BalanceProblem, Vec<Diagnostic>), InputError> {
    let mut diagnostics = Vec::new();
    let unit_rows = records("units", units)?;
    let mut unit_list = Vec::new();
    let mut points = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for (line, row) in &unit_rows {
        let error = |message: String| InputError { file: "units", line: *line, message };
        let id = row.first().ok_or_else(|| error("empty row".into()))?.trim().to_string();
        let number = |column: usize, name: &str| -> Result<f64, InputError> {
            let text = row.get(column).map(|cell| cell.trim()).unwrap_or("");
            text.parse::<f64>().map_err(|_| error(format!("{name} '{text}' is not a number")))
        };
        let workload = number(1, "workload")?;
        let potential = if row.len() > 2 { number(2, "potential")? } else { 0.0 };
        if row.len() >= 5 {
            points.push((number(3, "x")?, number(4, "y")?));
        }
        if index_of.insert(id.clone(), unit_list.len()).is_some() {
            return Err(error(format!("unit {id} appears twice")));
        }
        unit_list.push(Unit { id, workload, potential });
    }
    let locations = match distances {
        Some(reader) => Locations::Matrix(read_matrix(reader, &index_of)?),
        None if points.len() == unit_list.len() && !unit_list.is_empty() => Locations::Coordinates(points),
        None => {
            return Err(InputError {
                file: "units",
                line: 1,
                message: "no distances given and not every unit has x,y".into(),
            });
        }
    };
    let mut current = vec![usize::MAX; unit_list.len()];
    let mut reps: Vec<Rep> = Vec::new();
    let mut rep_index: HashMap<String, usize> = HashMap::new();
    let mut locks = Vec::new();
    let truthy = |cell: Option<&String>| cell.is_some_and(|text| matches!(text.trim(), "yes" | "true" | "1" | "y"));
    for (line, row) in records("assignment", assignment)? {
        let error = |message: String| InputError { file: "assignment", line, message };
        let unit_id = row.first().map(|cell| cell.trim()).unwrap_or("");
        let rep_id = row.get(1).map(|cell| cell.trim()).unwrap_or("");
        let &unit = index_of.get(unit_id).ok_or_else(|| error(format!("unknown unit '{unit_id}'")))?;
        if rep_id.is_empty() {
            return Err(error(format!("unit {unit_id} has no rep")));
        }
        let next = reps.len();
        let rep = *rep_index.entry(rep_id.to_string()).or_insert(next);
        if rep == next {
            reps.push(Rep { id: rep_id.to_string(), home: usize::MAX });
        }
        if current[unit] != usize::MAX {
            return Err(error(format!("unit {unit_id} is assigned twice")));
        }
        current[unit] = rep;
        if truthy(row.get(2)) {
            if reps[rep].home != usize::MAX {
                return Err(error(format!("rep {rep_id} has two home units")));
            }
            reps[rep].home = unit;
        }
        if truthy(row.get(3)) {
            locks.push((unit, rep));
        }
    }
    if let Some(unit) = current.iter().position(|&rep| rep == usize::MAX) {
        return Err(InputError {
            file: "assignment",
            line: 1,
            message: format!("unit {} has no current rep", unit_list[unit].id),
        });
    }
    // Without a home mark, the rep's first unit stands in for it.
    let homeless: Vec<usize> = (0..reps.len()).filter(|&rep| reps[rep].home == usize::MAX).collect();
    for rep in homeless {
        let first = current.iter().position(|&owner| owner == rep).unwrap_or(0);
        reps[rep].home = first;
        diagnostics.push(Diagnostic::warning(format!(
            "rep {} has no home unit marked; their first unit {} is taken as home",
            reps[rep].id, unit_list[first].id
        )));
    }
    Ok((BalanceProblem { units: unit_list, reps, locations, current, bounds, locks }, diagnostics))
}

/// Rows after the header, with their 1-based line numbers.
fn records(file: &'static str, reader: impl Read) -> Result<Vec<(usize, Vec<String>)>, InputError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|error| InputError {
            file,
            line: error.position().map_or(0, |position| position.line() as usize),
            message: error.to_string(),
        })?;
        let line = record.position().map_or(0, |position| position.line() as usize);
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(rows)
}

fn read_matrix(reader: &mut dyn Read, index_of: &HashMap<String, usize>) -> Result<Vec<Vec<f64>>, InputError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
    let header_error = |message: String| InputError { file: "distances", line: 1, message };
    let headers = csv.headers().map_err(|error| header_error(error.to_string()))?.clone();
    let mut columns = Vec::new();
    for id in headers.iter().skip(1) {
        columns.push(*index_of.get(id).ok_or_else(|| header_error(format!("unknown unit '{id}' in header")))?);
    }
    let count = index_of.len();
    let mut matrix = vec![vec![f64::NAN; count]; count];
    for record in csv.records() {
        let record = record.map_err(|error| header_error(error.to_string()))?;
        let line = record.position().map_or(0, |position| position.line() as usize);
        let error = |message: String| InputError { file: "distances", line, message };
        let id = record.get(0).unwrap_or("");
        let &row = index_of.get(id).ok_or_else(|| error(format!("unknown unit '{id}'")))?;
        for (cell, &column) in record.iter().skip(1).zip(&columns) {
            matrix[row][column] = cell.parse().map_err(|_| error(format!("distance '{cell}' is not a number")))?;
        }
    }
    for (row, values) in matrix.iter().enumerate() {
        if let Some(column) = values.iter().position(|value| value.is_nan()) {
            let name = |index: usize| {
                index_of.iter().find(|(_, i)| **i == index).map_or("?", |(id, _)| id.as_str()).to_string()
            };
            return Err(InputError {
                file: "distances",
                line: 1,
                message: format!("no distance from {} to {}", name(row), name(column)),
            });
        }
    }
    Ok(matrix)
}
