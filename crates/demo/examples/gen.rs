//! Times demo generation and prints the counts:
//! `cargo run --release -p demo --example gen [small|medium|large] [--sample] [--stats]`
//! (default large, seed 42) and prints the counts; `--sample` also prints a few records and
//! `--stats` win rates per region and rep, and the spread of open opportunities over stages.

use std::collections::BTreeMap;
use std::time::Instant;

use model::{Role, StageKind};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(demo::Scale::Large), |s| demo::Scale::parse(s))
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
    let today = jiff::civil::date(2026, 5, 1);

    let started = Instant::now();
    let company = demo::generate(scale, 42, today);
    let elapsed = started.elapsed();

    println!("scale {} seed 42 today {today}", scale.as_str());
    println!("regions        {:>9}", company.regions.len());
    println!("teams          {:>9}", company.teams.len());
    println!("users          {:>9}", company.users.len());
    println!("logins         {:>9}", company.logins.len());
    println!("pipelines      {:>9}", company.pipelines.len());
    println!("accounts       {:>9}", company.accounts.len());
    println!("opportunities  {:>9}", company.opportunities.len());
    println!("fx rates       {:>9}", company.fx_rates.len());
    println!("generated in {:.3} s", elapsed.as_secs_f64());

    if args.iter().any(|a| a == "--sample") {
        for u in company.users.iter().step_by((company.users.len() / 12).max(1)) {
            println!("{:?} {} <{}> {} {:?}", u.role, u.name, u.email.as_str(), u.time_zone.as_str(), u.locale);
        }
        for l in &company.logins {
            println!("login {:?} {} -> user {}", l.role, l.email.as_str(), l.user_id);
        }
        for a in company.accounts.iter().step_by((company.accounts.len() / 25).max(1)) {
            println!(
                "{} | {} | {} | {} {} {} | {} | {} emp | parent {:?}",
                a.id,
                a.name,
                a.industry,
                a.postal_code,
                a.city,
                a.country,
                a.time_zone.as_str(),
                a.employees,
                a.parent_id
            );
        }
        for a in company.accounts.iter().filter(|a| a.parent_id.is_some()).take(8) {
            println!("child {} -> {:?}", a.name, a.parent_id);
        }
        for o in company.opportunities.iter().step_by((company.opportunities.len() / 25).max(1)) {
            println!(
                "{} | {} | {} {} | stage {} {:?} | close {} | created {} updated {}",
                o.id,
                o.name,
                o.amount.amount,
                o.amount.currency,
                o.stage_id,
                o.forecast_category,
                o.close_date,
                o.created_at,
                o.updated_at
            );
        }
        for r in company.fx_rates.iter().step_by(6) {
            println!("fx {} -> {} from {} = {}", r.from, r.to, r.valid_from, r.rate);
        }
    }

    if args.iter().any(|a| a == "--stats") {
        stats(&company);
    }
}

fn stats(company: &demo::Company) {
    let kind: BTreeMap<_, _> = company
        .pipelines
        .iter()
        .flat_map(|p| &p.stages)
        .map(|s| (s.id, (s.kind, s.name.as_str(), p_name(company, s.pipeline_id))))
        .collect();
    let region_of: BTreeMap<_, _> = company.users.iter().map(|u| (u.id, u.region_id)).collect();
    let mut by_region: BTreeMap<_, (u32, u32)> = BTreeMap::new();
    let mut by_rep: BTreeMap<_, (u32, u32)> = BTreeMap::new();
    let mut open: BTreeMap<_, u32> = BTreeMap::new();
    for o in &company.opportunities {
        let (k, stage, pipeline) = kind[&o.stage_id];
        if pipeline != "New business" {
            continue;
        }
        match k {
            StageKind::Open => *open.entry((o.stage_id, stage)).or_default() += 1,
            _ => {
                let won = u32::from(k == StageKind::Won);
                let r = by_region.entry(region_of[&o.owner_id]).or_default();
                r.0 += won;
                r.1 += 1;
                let p = by_rep.entry(o.owner_id).or_default();
                p.0 += won;
                p.1 += 1;
            }
        }
    }
    let closed = company.opportunities.iter().filter(|o| kind[&o.stage_id].0 != StageKind::Open);
    let (won, total) =
        closed.fold((0u32, 0u32), |(w, t), o| (w + u32::from(kind[&o.stage_id].0 == StageKind::Won), t + 1));
    println!("overall win rate (both pipelines): {:.1}% of {total}", 100.0 * f64::from(won) / f64::from(total));
    for (region, (won, total)) in &by_region {
        println!(
            "new-business win rate region {region:?}: {:.1}% of {total}",
            100.0 * f64::from(*won) / f64::from(*total)
        );
    }
    let reps: Vec<f64> = by_rep
        .iter()
        .filter(|(id, (_, total))| *total >= 20 && company.users[(id.0 - 1) as usize].role == Role::SalesRep)
        .map(|(_, (won, total))| f64::from(*won) / f64::from(*total))
        .collect();
    let mut sorted = reps.clone();
    sorted.sort_by(f64::total_cmp);
    if !sorted.is_empty() {
        let q = |f: f64| 100.0 * sorted[((sorted.len() - 1) as f64 * f) as usize];
        println!(
            "rep win rates: min {:.0}% p10 {:.0}% median {:.0}% p90 {:.0}% max {:.0}%",
            q(0.0),
            q(0.1),
            q(0.5),
            q(0.9),
            q(1.0)
        );
    }
    for ((id, name), n) in open {
        println!("open new business in {id} {name}: {n}");
    }
}

fn p_name(company: &demo::Company, id: model::PipelineId) -> &str {
    company.pipelines.iter().find(|p| p.id == id).map_or("", |p| p.name.as_str())
}
