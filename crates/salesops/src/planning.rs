//! `salesops territory balance` and `salesops territory generate` (issue 8, P2): files in,
//! result out, no database. User errors name the file and line and exit with status 2.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use planning::balance::{
    BalanceOptions, BalanceProblem, Locations, Objective, balance, generate_instance, read_instance,
};

#[derive(Subcommand)]
pub enum TerritoryCommand {
    /// Balance territories: minimise distance or disruption with every rep's workload within
    /// the bounds (factors of the mean) and every rep keeping their home unit (docs/planning.md).
    Balance {
        /// unit,workload,potential[,x,y]
        #[arg(long)]
        units: PathBuf,
        /// Distance matrix: unit,<id>,<id>,… (optional when every unit has x,y)
        #[arg(long)]
        distances: Option<PathBuf>,
        /// Today's assignment: unit,rep[,home][,locked]
        #[arg(long)]
        assignment: PathBuf,
        /// LOW,HIGH as factors of the mean workload
        #[arg(long, default_value = "0.8,1.2")]
        workload_bounds: String,
        #[arg(long, value_enum, default_value_t = ObjectiveArg::Distance)]
        objective: ObjectiveArg,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Write a generated instance (the benchmark form) as units.csv, dist.csv and
    /// current.csv into DIR, to try `territory balance` on.
    Generate {
        #[arg(long)]
        units: usize,
        #[arg(long)]
        reps: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// List the stored territory versions (which one is in force today) from the database.
    Versions {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Accept a stored draft scenario: a new live territory version from a date.
    Accept {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// The scenario id
        #[arg(long)]
        scenario: i64,
        /// First day in force, e.g. 2027-01-01
        #[arg(long)]
        from: String,
        /// Act as this planner (default: the first administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ObjectiveArg {
    Distance,
    Disruption,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    Json,
    Table,
}

/// A CLI failure: `usage` errors (bad files, bad values) exit with status 2, others with 1.
#[derive(Debug)]
pub struct CliError {
    pub usage: bool,
    pub message: String,
}

fn usage(message: impl Into<String>) -> CliError {
    CliError { usage: true, message: message.into() }
}

fn failure(message: impl Into<String>) -> CliError {
    CliError { usage: false, message: message.into() }
}

/// Runs a `territory` sub-command and returns what to print.
pub fn territory(command: &TerritoryCommand) -> Result<String, CliError> {
    match command {
        TerritoryCommand::Balance { units, distances, assignment, workload_bounds, objective, format } => {
            let bounds = parse_bounds(workload_bounds)?;
            let read =
                |path: &Path| std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())));
            let units_text = read(units)?;
            let assignment_text = read(assignment)?;
            let distances_text = distances.as_deref().map(read).transpose()?;
            let objective = match objective {
                ObjectiveArg::Distance => Objective::Distance,
                ObjectiveArg::Disruption => Objective::Disruption,
            };
            balance_text(
                (&units_text, units),
                distances_text.as_deref().zip(distances.as_deref()),
                (&assignment_text, assignment),
                bounds,
                objective,
                *format,
            )
        }
        TerritoryCommand::Generate { units, reps, seed, out } => {
            if *reps == 0 || *units < *reps {
                return Err(usage("--reps must be at least 1 and at most --units"));
            }
            if *units > 5_000 {
                return Err(usage("--units: at most 5,000 (the distance matrix grows with the square)"));
            }
            let problem = generate_instance(*units, *reps, *seed);
            let (u, d, a) = instance_csv(&problem);
            std::fs::create_dir_all(out).map_err(|e| failure(format!("cannot create {}: {e}", out.display())))?;
            for (name, text) in [("units.csv", u), ("dist.csv", d), ("current.csv", a)] {
                let path = out.join(name);
                std::fs::write(&path, text).map_err(|e| failure(format!("cannot write {}: {e}", path.display())))?;
            }
            Ok(format!(
                "wrote units.csv, dist.csv and current.csv ({units} units, {reps} reps, seed {seed}) to {}",
                out.display()
            ))
        }
        TerritoryCommand::Versions { .. } | TerritoryCommand::Accept { .. } => {
            Err(CliError { usage: false, message: "this command reads the database: see territories_cli".into() })
        }
    }
}

/// `LOW,HIGH`, e.g. `0.8,1.2`.
pub fn parse_bounds(text: &str) -> Result<(f64, f64), CliError> {
    let bad =
        || usage(format!("--workload-bounds '{text}': expected LOW,HIGH with 0 <= LOW <= 1 <= HIGH, e.g. 0.8,1.2"));
    let (low, high) = text.split_once(',').ok_or_else(bad)?;
    let low: f64 = low.trim().parse().map_err(|_| bad())?;
    let high: f64 = high.trim().parse().map_err(|_| bad())?;
    if !(low.is_finite() && high.is_finite() && (0.0..=1.0).contains(&low) && high >= 1.0) {
        return Err(bad());
    }
    Ok((low, high))
}

/// Balances an instance given as CSV bytes (with the paths for messages) and renders the result.
pub fn balance_text(
    units: (&[u8], &Path),
    distances: Option<(&[u8], &Path)>,
    assignment: (&[u8], &Path),
    bounds: (f64, f64),
    objective: Objective,
    format: FormatArg,
) -> Result<String, CliError> {
    let mut distance_reader = distances.map(|(bytes, _)| bytes);
    let (problem, notes) =
        read_instance(units.0, distance_reader.as_mut().map(|r| r as &mut dyn std::io::Read), assignment.0, bounds)
            .map_err(|e| {
                let path = match e.file {
                    "units" => units.1,
                    "distances" => distances.map_or(units.1, |d| d.1),
                    _ => assignment.1,
                };
                usage(format!("{} line {}: {}", path.display(), e.line, e.message))
            })?;
    let options = BalanceOptions { objective, ..BalanceOptions::default() };
    let (outcome, mut diagnostics) = balance(&problem, &options).map_err(|e| match e {
        planning::balance::BalanceError::Solver(m) => failure(format!("solver failed: {m}")),
        other => usage(other.to_string()),
    })?;
    diagnostics.extend(notes);
    let dto = app::planning::outcome_dto(&problem, objective, &outcome, &diagnostics);
    if format == FormatArg::Json {
        return serde_json::to_string_pretty(&dto).map_err(|e| failure(e.to_string()));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} objective {:.6}, lower bound {:.6}, gap {:.3}% ({})",
        dto.objective,
        dto.objective_value,
        dto.lower_bound,
        dto.gap * 100.0,
        dto.proof
    );
    let _ = writeln!(out, "{:<16} {:>13} {:>21} {:>21} {:>21}", "rep", "units", "workload", "potential", "distance");
    for (b, a) in dto.before.per_rep.iter().zip(&dto.after.per_rep) {
        let _ = writeln!(
            out,
            "{:<16} {:>5} -> {:<5} {:>9.3} -> {:<9.3} {:>9.3} -> {:<9.3} {:>9.4} -> {:<9.4}",
            b.rep, b.units, a.units, b.workload, a.workload, b.potential, a.potential, b.distance, a.distance
        );
    }
    let (b, a) = (&dto.before, &dto.after);
    let _ = writeln!(
        out,
        "workload min-max  {:.3}-{:.3} -> {:.3}-{:.3}",
        b.workload.min, b.workload.max, a.workload.min, a.workload.max
    );
    let _ = writeln!(
        out,
        "workload CV       {:.3} -> {:.3}",
        b.workload.coefficient_of_variation, a.workload.coefficient_of_variation
    );
    let _ = writeln!(out, "workload Gini     {:.3} -> {:.3}", b.workload.gini, a.workload.gini);
    let _ = writeln!(out, "total distance    {:.4} -> {:.4}", b.total_distance, a.total_distance);
    let _ = writeln!(out, "disruption        {:.2}% ({} units moved)", a.disruption * 100.0, a.units_moved);
    for d in &dto.diagnostics {
        let _ = writeln!(out, "note: {d}");
    }
    let _ = writeln!(out, "unit,rep");
    for ur in &dto.assignment {
        let _ = writeln!(out, "{},{}", ur.unit, ur.rep);
    }
    Ok(out)
}

/// The three CSV texts of an instance: units (with x,y when known), the distance matrix and
/// today's assignment with home units marked.
pub fn instance_csv(problem: &BalanceProblem) -> (String, String, String) {
    let n = problem.units.len();
    let mut units = String::from("unit,workload,potential,x,y\n");
    for (i, u) in problem.units.iter().enumerate() {
        match &problem.locations {
            Locations::Coordinates(points) => {
                let _ = writeln!(units, "{},{},{},{},{}", u.id, u.workload, u.potential, points[i].0, points[i].1);
            }
            Locations::Matrix(_) => {
                let _ = writeln!(units, "{},{},{}", u.id, u.workload, u.potential);
            }
        }
    }
    let mut dist = String::from("unit");
    for u in &problem.units {
        let _ = write!(dist, ",{}", u.id);
    }
    dist.push('\n');
    for a in 0..n {
        dist.push_str(&problem.units[a].id);
        for b in 0..n {
            let _ = write!(dist, ",{:.6}", problem.locations.distance(a, b));
        }
        dist.push('\n');
    }
    let mut assignment = String::from("unit,rep,home\n");
    for (i, &rep) in problem.current.iter().enumerate() {
        let home = if problem.reps[rep].home == i { "yes" } else { "" };
        let _ = writeln!(assignment, "{},{},{home}", problem.units[i].id, problem.reps[rep].id);
    }
    (units, dist, assignment)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated instance written as CSV and balanced through the CLI's function reaches the
    /// same optimum as the engine on the instance itself.
    #[test]
    fn balance_from_generated_csv_matches_the_engine() {
        let problem = generate_instance(20, 3, 4);
        let (u, d, a) = instance_csv(&problem);
        let path = Path::new("x.csv");
        let text = balance_text(
            (u.as_bytes(), path),
            Some((d.as_bytes(), path)),
            (a.as_bytes(), path),
            (0.8, 1.2),
            Objective::Distance,
            FormatArg::Json,
        )
        .expect("balanced");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        let (engine, _) = balance(&problem, &BalanceOptions::default()).expect("engine");
        let value = json["objective_value"].as_f64().expect("objective");
        assert!((value - engine.objective_value).abs() < 1e-4, "{value} vs {}", engine.objective_value);
        assert_eq!(json["proof"], "proven_optimal");
    }

    #[test]
    fn a_bad_line_names_the_file_and_line_and_is_a_usage_error() {
        let units = "unit,workload,potential,x,y\nA,1,1,0,0\nB,x,1,1,1\n";
        let assignment = "unit,rep,home\nA,anna,yes\nB,anna\n";
        let error = balance_text(
            (units.as_bytes(), Path::new("units.csv")),
            None,
            (assignment.as_bytes(), Path::new("current.csv")),
            (0.8, 1.2),
            Objective::Distance,
            FormatArg::Table,
        )
        .expect_err("bad workload");
        assert!(error.usage);
        assert_eq!(error.message, "units.csv line 3: workload 'x' is not a number");
    }

    #[test]
    fn bounds_must_bracket_one() {
        assert_eq!(parse_bounds("0.8,1.2").expect("ok"), (0.8, 1.2));
        assert!(parse_bounds("1.2,0.8").expect_err("reversed").usage);
        assert!(parse_bounds("0.8").is_err());
    }
}

#[derive(Subcommand)]
pub enum QuotaCommand {
    /// Allocate a target top down over recipients (regions, teams or reps), exactly to the
    /// currency's minor unit (docs/planning.md, P3).
    Allocate {
        /// The target amount, e.g. 1200000
        #[arg(long)]
        target: String,
        /// ISO currency code, e.g. EUR
        #[arg(long)]
        currency: String,
        /// id[,prior_year][,trailing_twelve_months][,potential][,capacity] (header line first)
        #[arg(long)]
        recipients: PathBuf,
        /// even, prior_year, ttm, potential or capacity, or a blend such as
        /// potential=0.5,prior_year=0.3,even=0.2
        #[arg(long, default_value = "even")]
        method: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Show the stored quotas of a period with won revenue and attainment.
    Show {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// 2026-Q3, 2026-07 or FY2026
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Store quotas of a period from a CSV file `email,amount,currency[,ramp]` (header first).
    Set {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        period: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

fn basis(name: &str) -> Option<planning::quota::Basis> {
    use planning::quota::Basis;
    Some(match name.trim() {
        "even" => Basis::Even,
        "prior_year" => Basis::PriorYear,
        "ttm" | "trailing_twelve_months" => Basis::TrailingTwelveMonths,
        "potential" => Basis::Potential,
        "capacity" => Basis::Capacity,
        _ => return None,
    })
}

/// Parses `--method`: one basis, or `basis=weight,…`.
pub fn parse_method(text: &str) -> Result<planning::quota::AllocationMethod, CliError> {
    use planning::quota::AllocationMethod;
    let bad = |part: &str| {
        usage(format!(
            "--method '{text}': '{part}' is not even, prior_year, ttm, potential or capacity (or basis=weight)"
        ))
    };
    if !text.contains('=') {
        return basis(text).map(AllocationMethod::Single).ok_or_else(|| bad(text));
    }
    let mut parts = Vec::new();
    for part in text.split(',') {
        let (name, weight) = part.split_once('=').ok_or_else(|| bad(part))?;
        let weight: rust_decimal::Decimal = weight.trim().parse().map_err(|_| bad(part))?;
        parts.push((basis(name).ok_or_else(|| bad(part))?, weight));
    }
    Ok(AllocationMethod::Blend(parts))
}

/// Allocates from CSV text (with the path for messages) and renders the result.
pub fn allocate_text(
    target: &str,
    currency: &str,
    recipients: (&[u8], &Path),
    method: &str,
    format: FormatArg,
) -> Result<String, CliError> {
    use planning::quota::{Recipient, allocate};
    use rust_decimal::Decimal;
    let target =
        model::Money::parse(target, currency).map_err(|e| usage(format!("--target/--currency: {}", e.reason)))?;
    let method = parse_method(method)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(recipients.0);
    let mut list = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| usage(format!("{}: {e}", recipients.1.display())))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |column: usize, name: &str, default: Decimal| -> Result<Decimal, CliError> {
            match record.get(column).map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(default),
                Some(text) => text.parse().map_err(|_| {
                    usage(format!("{} line {line}: {name} '{text}' is not a number", recipients.1.display()))
                }),
            }
        };
        let id = record.get(0).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Err(usage(format!("{} line {line}: empty id", recipients.1.display())));
        }
        list.push(Recipient {
            id,
            prior_year: number(1, "prior_year", Decimal::ZERO)?,
            trailing_twelve_months: number(2, "trailing_twelve_months", Decimal::ZERO)?,
            potential: number(3, "potential", Decimal::ZERO)?,
            capacity: number(4, "capacity", Decimal::ONE)?,
        });
    }
    let (allocations, diagnostics) =
        allocate(target, &list, &method).map_err(|e| usage(format!("{}: {e}", recipients.1.display())))?;
    if format == FormatArg::Json {
        let rows: Vec<_> = allocations
            .iter()
            .map(|a| serde_json::json!({"id": a.id, "quota": a.quota.amount.to_string(), "currency": a.quota.currency.code()}))
            .collect();
        let notes: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        return serde_json::to_string_pretty(&serde_json::json!({"allocations": rows, "diagnostics": notes}))
            .map_err(|e| failure(e.to_string()));
    }
    let mut out = String::from("id,quota,currency\n");
    for a in &allocations {
        let _ = writeln!(out, "{},{},{}", a.id, a.quota.amount, a.quota.currency.code());
    }
    for d in &diagnostics {
        let _ = writeln!(out, "note: {}", d.message);
    }
    Ok(out)
}

/// Runs a `quota` sub-command and returns what to print.
pub fn quota(command: &QuotaCommand) -> Result<String, CliError> {
    match command {
        QuotaCommand::Allocate { target, currency, recipients, method, format } => {
            let bytes =
                std::fs::read(recipients).map_err(|e| usage(format!("cannot read {}: {e}", recipients.display())))?;
            allocate_text(target, currency, (&bytes, recipients), method, *format)
        }
        QuotaCommand::Show { .. } | QuotaCommand::Set { .. } => {
            Err(CliError { usage: false, message: "this command reads the database: see territories_cli".into() })
        }
    }
}

#[cfg(test)]
mod quota_tests {
    use super::*;

    #[test]
    fn a_blend_allocates_exactly_to_the_cent() {
        let reps = "id,prior_year,ttm,potential\nanna,100,100,300\nben,200,200,100\ncarl,0,0,0\n";
        let out = allocate_text(
            "1000",
            "EUR",
            (reps.as_bytes(), Path::new("reps.csv")),
            "potential=0.5,even=0.5",
            FormatArg::Table,
        )
        .expect("allocated");
        // Potential shares 0.75/0.25/0, even 1/3 each: 541.67, 291.67, 166.66 (largest remainders).
        assert_eq!(out, "id,quota,currency\nanna,541.67,EUR\nben,291.67,EUR\ncarl,166.66,EUR\n");
    }

    #[test]
    fn bad_figures_and_methods_are_usage_errors() {
        let reps = "id,prior_year\nanna,lots\n";
        let e = allocate_text("10", "EUR", (reps.as_bytes(), Path::new("reps.csv")), "even", FormatArg::Table)
            .expect_err("bad figure");
        assert_eq!((e.usage, e.message.as_str()), (true, "reps.csv line 2: prior_year 'lots' is not a number"));
        assert!(parse_method("luck").expect_err("bad method").usage);
    }
}

#[derive(Subcommand)]
pub enum CapacityCommand {
    /// A hiring plan: the fewest hires, as early as possible, so that the projected bookings
    /// capacity over the plan months reaches the target (docs/planning.md, P4).
    Plan {
        /// Bookings target over the plan, e.g. 3000000
        #[arg(long)]
        target: String,
        #[arg(long)]
        currency: String,
        /// Bookings per month of a fully productive rep
        #[arg(long)]
        productivity: String,
        /// Fully ramped reps on the team today
        #[arg(long, default_value = "0")]
        existing: String,
        #[arg(long, default_value_t = 12)]
        months: usize,
        /// Productivity by tenure month, e.g. 0.25,0.5,0.75,1
        #[arg(long, default_value = "0.25,0.5,0.75,1")]
        ramp: String,
        /// Share of reps leaving each month, e.g. 0.015
        #[arg(long, default_value = "0")]
        attrition: String,
        /// Replace expected leavers the following month
        #[arg(long)]
        backfill: bool,
        /// Weights of the plan months (default flat), e.g. 1,1,1.2,…
        #[arg(long)]
        seasonality: Option<String>,
        /// Fully loaded monthly cost of a rep
        #[arg(long, default_value = "0")]
        cost: String,
        #[arg(long, default_value_t = 10)]
        max_hires_per_month: u32,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
}

fn decimal(flag: &str, text: &str) -> Result<rust_decimal::Decimal, CliError> {
    let value: rust_decimal::Decimal =
        text.trim().parse().map_err(|_| usage(format!("--{flag} '{text}' is not a number")))?;
    if value.is_sign_negative() {
        return Err(usage(format!("--{flag} must not be negative")));
    }
    Ok(value)
}

fn decimals(flag: &str, text: &str) -> Result<Vec<rust_decimal::Decimal>, CliError> {
    text.split(',').map(|part| decimal(flag, part)).collect()
}

/// Runs a `capacity` sub-command and returns what to print.
pub fn capacity(command: &CapacityCommand) -> Result<String, CliError> {
    use planning::capacity::{CapacityModel, Cohort, hiring_plan};
    let CapacityCommand::Plan {
        target,
        currency,
        productivity,
        existing,
        months,
        ramp,
        attrition,
        backfill,
        seasonality,
        cost,
        max_hires_per_month,
        format,
    } = command;
    let target =
        model::Money::parse(target, currency).map_err(|e| usage(format!("--target/--currency: {}", e.reason)))?;
    if *months == 0 || *months > 120 {
        return Err(usage("--months must be between 1 and 120"));
    }
    let attrition = decimal("attrition", attrition)?;
    if attrition >= rust_decimal::Decimal::ONE {
        return Err(usage("--attrition is a monthly share below 1, e.g. 0.015"));
    }
    let model = CapacityModel {
        full_monthly_productivity: decimal("productivity", productivity)?,
        currency: target.currency,
        productivity_by_tenure: decimals("ramp", ramp)?,
        monthly_attrition: attrition,
        backfill: *backfill,
        seasonality: seasonality.as_deref().map(|s| decimals("seasonality", s)).transpose()?.unwrap_or_default(),
        cost_per_rep_month: decimal("cost", cost)?,
    };
    // Today's team counts as fully ramped: hired long enough before the plan.
    let team = vec![Cohort { start_month: -120, count: decimal("existing", existing)? }];
    let plan = hiring_plan(&model, target, &team, *months, *max_hires_per_month);
    if *format == FormatArg::Json {
        return serde_json::to_string_pretty(&plan).map_err(|e| failure(e.to_string()));
    }
    let mut out = String::from("month,hires,headcount,capacity,cumulative,cost\n");
    for m in &plan.projection.months {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            m.month + 1,
            m.hires,
            m.headcount.round_dp(2),
            m.capacity.amount,
            m.cumulative.amount,
            m.cost.amount
        );
    }
    let _ = writeln!(
        out,
        "total hires {}, capacity {} {}, cost {} {}, target {} {}: {}",
        plan.total_hires,
        plan.projection.total_capacity.amount,
        target.currency.code(),
        plan.projection.total_cost.amount,
        target.currency.code(),
        target.amount,
        target.currency.code(),
        if plan.meets_target { "reached" } else { "NOT reached (raise --max-hires-per-month or --months)" }
    );
    Ok(out)
}

#[cfg(test)]
mod capacity_tests {
    use super::*;

    fn plan(target: &str, existing: &str) -> CapacityCommand {
        CapacityCommand::Plan {
            target: target.into(),
            currency: "EUR".into(),
            productivity: "10000".into(),
            existing: existing.into(),
            months: 12,
            ramp: "1".into(),
            attrition: "0".into(),
            backfill: false,
            seasonality: None,
            cost: "0".into(),
            max_hires_per_month: 10,
            format: FormatArg::Table,
        }
    }

    #[test]
    fn a_fully_productive_team_needs_no_hires_and_one_more_rep_is_hired_first_month() {
        // 2 reps × 10,000 × 12 months = 240,000.
        let out = capacity(&plan("240000", "2")).expect("plan");
        assert!(out.contains("total hires 0,"), "{out}");
        assert!(out.ends_with("reached\n"), "{out}");
        let out = capacity(&plan("250000", "2")).expect("plan");
        assert!(out.contains("\n1,1,3,"), "{out}");
        assert!(out.contains("total hires 1,"), "{out}");
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let mut bad = plan("1000", "1");
        let CapacityCommand::Plan { attrition, .. } = &mut bad;
        *attrition = "1.5".into();
        assert!(capacity(&bad).expect_err("attrition").usage);
        assert!(capacity(&plan("lots", "1")).expect_err("target").usage);
    }
}
