//! The salesops binary: `serve`, `demo`, `migrate`, `backup`, `restore` and `user` commands.

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

mod alerts;
mod bench;
#[path = "forecast.rs"]
mod forecast_cli;
mod kpi;
mod planning;

/// `println!` that ignores a closed stdout (`salesops … | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod comp;
mod forecast_calls;
mod territories_cli;

/// mimalloc instead of glibc malloc: under load a fifth of the server's time went to malloc,
/// free and heap consolidation (SQLite rows are copied value by value).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::{App, SystemClock};
use store::{ConnectOptions, Store};

#[derive(Parser)]
#[command(name = "salesops", version, about = "Sales & commercial operations platform")]
struct Cli {
    /// Log format for the server.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Print results as JSON (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Trust X-Forwarded-For for client addresses (only behind your own proxy).
    #[arg(long)]
    trust_proxy: bool,
    /// Mark cookies Secure (when served over HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// Maximum database connections of this process (8 measured best for SQLite on 2 cores).
    #[arg(long, default_value_t = 8)]
    max_connections: u32,
    /// SMTP relay for alert e-mails: smtp://host:port (none: alerts stay in the app and webhooks)
    #[arg(long, env = "SALESOPS_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender address of alert e-mails
    #[arg(long, env = "SALESOPS_MAIL_FROM", default_value = "salesops <salesops@localhost>")]
    mail_from: String,
    /// Hour of the day (company time zone) from which the daily trend-alert run starts; -1: never
    #[arg(long, env = "SALESOPS_ALERTS_HOUR", default_value_t = 7, allow_negative_numbers = true)]
    alerts_hour: i8,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI and API.
    Serve {
        /// sqlite://FILE or postgres://USER@HOST/DB
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Create (or reuse) the demo database, fill it with the demo company and serve it.
    Demo {
        #[arg(long, env = "SALESOPS_DATABASE_URL", default_value = "sqlite://salesops-demo.db")]
        database_url: String,
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Delete the existing demo database first (SQLite file) and rebuild it.
        #[arg(long)]
        reset: bool,
        /// Load the data and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
    },
    /// Write the whole database to one portable file.
    Backup {
        file: PathBuf,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
    },
    /// Read a backup file into an empty database (SQLite or PostgreSQL).
    Restore {
        file: PathBuf,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
    },
    /// Benchmarks that print figures (performance targets live here, not in tests).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Import a CSV file of accounts, contacts, leads, opportunities or activities: Salesforce
    /// and HubSpot exports, salesops' own export, or any CSV with a mapping file. All or
    /// nothing; re-importing the same file changes nothing.
    Import {
        /// accounts, contacts, leads, opportunities or activities
        entity: String,
        file: PathBuf,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// salesops, salesforce or hubspot (default: detected from the header)
        #[arg(long)]
        preset: Option<String>,
        /// A TOML mapping file for any other CSV (see docs/import.md)
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Validate and report, write nothing
        #[arg(long)]
        dry_run: bool,
        /// Create accounts that opportunities refer to but that do not exist yet
        #[arg(long)]
        create_missing: bool,
        /// The file is another salesops's export: read its salesops ids as external ids
        #[arg(long)]
        foreign_ids: bool,
        /// Act as this user (default: the first active administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
        /// Refuse files larger than this many MiB
        #[arg(long, default_value_t = 2048)]
        max_mib: u64,
    },
    /// Export accounts, contacts, leads, opportunities or activities as salesops CSV
    /// (references by e-mail, name and external id; opportunities with their stage history);
    /// the file imports back unchanged. Streams page by page.
    Export {
        /// accounts, contacts, leads, opportunities or activities
        entity: String,
        file: PathBuf,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// Act as this user (what they may see is exported; default: the first administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// KPIs as the user named by --as sees them, e.g.
    /// `salesops kpi --metric win_rate --by owner --period 2017-Q3 --format json|csv|table`.
    Kpi(kpi::KpiArgs),
    /// Incentive compensation: calculate a month, print a statement, model a draft plan.
    Comp {
        #[command(subcommand)]
        command: comp::CompCommand,
    },
    /// Territory balancing from CSV files (no database): `balance` and `generate`.
    Territory {
        #[command(subcommand)]
        command: planning::TerritoryCommand,
    },
    /// Quotas from CSV files (no database): `allocate`.
    Quota {
        #[command(subcommand)]
        command: planning::QuotaCommand,
    },
    /// Capacity planning from flags (no database): `plan`.
    Capacity {
        #[command(subcommand)]
        command: planning::CapacityCommand,
    },
    /// Trend alerts: `alerts scan` (preview) and `alerts run` (store, notify, e-mail, webhooks).
    Alerts {
        #[command(subcommand)]
        command: alerts::AlertsCommand,
    },
    /// Forecasts: `forecast series --input FILE.csv --horizon H --season M` (docs/forecasting.md).
    Forecast {
        #[command(subcommand)]
        command: ForecastCommand,
    },
    /// Administer users from the command line (e.g. the first administrator).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Load-test signed-in pages and API lists on an in-process server (demo data loaded if the
    /// database is empty), at a fixed concurrency, bounded in requests and time.
    Http {
        #[arg(long, default_value = "sqlite://salesops-bench.db")]
        database_url: String,
        #[arg(long, value_enum, default_value_t = ScaleArg::Medium)]
        scale: ScaleArg,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        /// Requests per endpoint.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Upper bound on seconds per endpoint.
        #[arg(long, default_value_t = 30)]
        max_seconds: u64,
        /// Database connections of the server under test.
        #[arg(long, default_value_t = 8)]
        max_connections: u32,
        /// Only endpoints whose name contains this text.
        #[arg(long)]
        only: Option<String>,
    },
    /// Time a CSV import of generated opportunities (salesops format, with two stage-history
    /// entries each) into a database holding the small demo company, then re-import it.
    Import {
        /// Use a fresh database: the benchmark writes into it.
        #[arg(long, default_value = "sqlite://salesops-bench-import.db")]
        database_url: String,
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Also time importing the same file again (nothing changes).
        #[arg(long)]
        reimport: bool,
    },
    /// Forecast every series of the M3 competition file with the automatic method and print
    /// sMAPE and MASE by period and overall, plus wall time (docs/forecasting.md).
    ForecastM3 {
        /// The M3 CSV, e.g. ../shared/data/m3/m3_all_series.csv.
        file: PathBuf,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

#[derive(Subcommand)]
enum ForecastCommand {
    /// Forecast a series read from CSV (a `value` column, or `period,value`; header optional) with
    /// the automatic method: point forecasts with 80% and 95% intervals, the method chosen and
    /// diagnostics. Bad input exits with status 2, naming the line.
    Series {
        #[arg(long)]
        input: PathBuf,
        /// Periods to forecast.
        #[arg(long)]
        horizon: usize,
        /// Season length: 12 monthly, 52 weekly, 4 quarterly, 1 for none.
        #[arg(long, default_value_t = 1)]
        season: usize,
        #[arg(long, value_enum, default_value_t = forecast_cli::SeriesFormat::Table)]
        format: forecast_cli::SeriesFormat,
    },
    /// Forecast calls (docs/forecasting.md, "Forecast calls"): `submit`, `rollup`, `snapshot`
    /// (weekly from cron), `waterfall`, `accuracy`.
    Call {
        #[command(subcommand)]
        command: forecast_calls::CallCommand,
    },
    /// Pipeline forecast of a month, fiscal quarter or year from the open pipeline as it was on a
    /// date: stage-weighted, learned, P10/P50/P90, the biggest opportunities and calibration.
    Pipeline(forecast_cli::PipelineArgs),
    /// Back-test the pipeline forecast on the company's own history, month by month (or quarter
    /// by quarter): P50 error, P10–P90 coverage and the method chosen per segment.
    Backtest(forecast_cli::BacktestArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from SALESOPS_PASSWORD or standard input.
    Create {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// One of: head_of_commercial_ops, sales_ops_manager, marketing_ops, customer_success_ops,
        /// data_analyst, crm_admin, sales_manager, sales_rep, finance
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        #[arg(long, default_value = "en")]
        locale: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Small,
    Medium,
    Large,
}

impl From<ScaleArg> for demo::Scale {
    fn from(s: ScaleArg) -> Self {
        match s {
            ScaleArg::Small => demo::Scale::Small,
            ScaleArg::Medium => demo::Scale::Medium,
            ScaleArg::Large => demo::Scale::Large,
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open(url: &str, max_connections: u32) -> Result<Store> {
    let store = Store::connect(url, &ConnectOptions { max_connections, pg_schema: None })
        .await
        .with_context(|| format!("cannot open database {url}"))?;
    store.migrate().await.context("migrations failed")?;
    store.currencies_seed().await.context("cannot seed currencies")?;
    Ok(store)
}

fn progress_bar(message: &'static str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(message);
    pb
}

async fn run_server(store: Store, args: &ServeArgs, banner: Option<String>) -> Result<()> {
    let app = App::new(store, Arc::new(SystemClock));
    let mut state = web::AppState::new(app.clone());
    state.trust_proxy = args.trust_proxy;
    state.secure_cookies = args.secure_cookies;
    if let Some(url) = &args.smtp_url {
        state.mailer =
            Some(web::alerts::Mailer::parse(url, &args.mail_from).map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?);
    }
    let alerts_state = state.clone();
    let alerts_hour = args.alerts_hour;
    let listener =
        tokio::net::TcpListener::bind(&args.bind).await.with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    // Housekeeping runs in whichever process holds the job lock.
    let holder = format!("{}-{}", std::process::id(), addr);
    tokio::spawn(async move {
        loop {
            if let Err(e) = app.sweep(&holder).await {
                tracing::warn!(error = %e, "housekeeping failed");
            }
            // The daily trend-alert run; stored once per date, so any number of processes may try.
            if alerts_hour >= 0 {
                match web::alerts::daily(&alerts_state, alerts_hour).await {
                    Ok(Some((run, d))) => tracing::info!(run, ?d, "trend alerts sent"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "trend alerts failed"),
                }
            }
            tokio::time::sleep(Duration::from_secs(300)).await;
        }
    });
    if let Some(b) = banner {
        say!("{b}");
    }
    say!("salesops is running at http://{addr}/  (Ctrl-C to stop)");
    tracing::info!(%addr, "listening");
    web::serve(listener, state).await.context("server failed")?;
    Ok(())
}

/// Runs the command; errors print as one readable chain ("restore failed: …: the target
/// database is not empty …") and exit with status 1, without a backtrace.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match cli.command {
        Command::Territory { command } if territories_cli::territory_needs_db(&command) => {
            territories_cli::territory(command).await
        }
        Command::Quota { command } if territories_cli::quota_needs_db(&command) => {
            territories_cli::quota(command).await
        }
        Command::Territory { command } => {
            planning::territory(&command).map(|out| say!("{}", out.trim_end())).or_else(|e| {
                eprintln!("error: {}", e.message);
                std::process::exit(if e.usage { 2 } else { 1 })
            })
        }
        Command::Quota { command } => planning::quota(&command).map(|out| say!("{}", out.trim_end())).or_else(|e| {
            eprintln!("error: {}", e.message);
            std::process::exit(if e.usage { 2 } else { 1 })
        }),
        Command::Capacity { command } => {
            planning::capacity(&command).map(|out| say!("{}", out.trim_end())).or_else(|e| {
                eprintln!("error: {}", e.message);
                std::process::exit(if e.usage { 2 } else { 1 })
            })
        }
        Command::Serve { database_url, serve } => {
            let store = open(&database_url, serve.max_connections).await?;
            run_server(store, &serve, None).await
        }
        Command::Migrate { database_url } => {
            open(&database_url, 2).await?;
            say!("migrations applied");
            Ok(())
        }
        Command::Demo { database_url, scale, seed, reset, no_serve, serve } => {
            if reset {
                reset_database(&database_url).await?;
            }
            let store = open(&database_url, serve.max_connections).await?;
            let banner = if store.is_empty().await? {
                let pb = progress_bar("demo data");
                let started = Instant::now();
                let summary =
                    app::load_demo(&store, scale.into(), seed, jiff::Timestamp::now(), &|n| pb.set_length(n), &|n| {
                        pb.inc(n)
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                pb.finish();
                let took = started.elapsed().as_secs_f64();
                if cli.json {
                    say!(
                        "{}",
                        serde_json::json!({"users": summary.users, "accounts": summary.accounts, "opportunities": summary.opportunities, "seconds": took})
                    );
                } else {
                    say!(
                        "Loaded {} users, {} accounts, {} opportunities in {took:.1} s.",
                        summary.users,
                        summary.accounts,
                        summary.opportunities
                    );
                }
                Some(logins_banner(&summary.logins))
            } else {
                say!("Reusing the existing demo database ({database_url}); pass --reset to rebuild it.");
                Some(logins_banner(&demo_logins()))
            };
            if no_serve {
                if let Some(b) = banner {
                    say!("{b}");
                }
                return Ok(());
            }
            run_server(store, &serve, banner).await
        }
        Command::Backup { file, database_url } => {
            let store = open(&database_url, 2).await?;
            let f = std::fs::File::create(&file).with_context(|| format!("cannot create {}", file.display()))?;
            let mut out = BufWriter::new(f);
            let pb = progress_bar("backup");
            let summary = store.backup(&mut out, &|n| pb.inc(n)).await.context("backup failed")?;
            pb.finish_and_clear();
            report(cli.json, "backed up", &file, &summary);
            Ok(())
        }
        Command::Restore { file, database_url } => {
            let f = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let store = open(&database_url, 2).await?;
            let mut input = BufReader::new(f);
            let pb = progress_bar("restore");
            let summary =
                store.restore(&mut input, &|n| pb.inc(n)).await.context("restore failed; nothing was written")?;
            pb.finish_and_clear();
            report(cli.json, "restored", &file, &summary);
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Http { database_url, scale, seed, concurrency, requests, max_seconds, max_connections, only },
        } => {
            let limits = BenchLimits { concurrency, requests, max_seconds, max_connections, only };
            bench_http(&database_url, scale, seed, &limits, cli.json).await
        }
        Command::Comp { command } => comp::run(command, cli.json).await,
        Command::Export { entity, file, database_url, as_user } => {
            let entity = import::Entity::parse(&entity).map_err(|e| anyhow::anyhow!("entity: {}", e.reason))?;
            let store = open(&database_url, 2).await?;
            let app = App::new(store, Arc::new(SystemClock));
            let p = app.cli_principal(as_user.as_deref()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let f = std::fs::File::create(&file).with_context(|| format!("cannot create {}", file.display()))?;
            let mut out = BufWriter::new(f);
            let started = Instant::now();
            let pb = progress_bar("export");
            let (mut after, mut rows) = (0i64, 0u64);
            loop {
                let (bytes, next, n) = app.export_page(&p, entity, after).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                rows += n as u64;
                pb.inc(n as u64);
                std::io::Write::write_all(&mut out, &bytes)?;
                match next {
                    Some(n) => after = n,
                    None => break,
                }
            }
            std::io::Write::flush(&mut out)?;
            pb.finish_and_clear();
            if cli.json {
                say!(
                    "{}",
                    serde_json::json!({"file": file.display().to_string(), "rows": rows, "seconds": started.elapsed().as_secs_f64(), "peak_rss_mib": peak_rss_mib()})
                );
            } else {
                say!(
                    "exported {rows} {entity} to {} in {:.1} s (peak memory {:.0} MiB)",
                    file.display(),
                    started.elapsed().as_secs_f64(),
                    peak_rss_mib().unwrap_or(0.0)
                );
            }
            Ok(())
        }
        Command::Kpi(args) => kpi::run(args).await,
        Command::Alerts { command } => alerts::run(command).await,
        Command::Bench { command: BenchCommand::Import { database_url, rows, reimport } } => {
            bench_import(&database_url, rows, reimport, cli.json).await
        }
        Command::Bench { command: BenchCommand::ForecastM3 { file, threads } } => {
            let input = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let series = forecast::m3::parse_m3(input).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let started = std::time::Instant::now();
            let report = forecast::m3::run_m3(&series, threads.max(1));
            let seconds = started.elapsed().as_secs_f64();
            if cli.json {
                let methods: Vec<_> = report
                    .methods
                    .iter()
                    .map(|m| {
                        let rows: Vec<_> = m
                            .rows
                            .iter()
                            .map(|r| serde_json::json!({"group": r.group, "series": r.series, "smape": r.smape, "mase": r.mase}))
                            .collect();
                        serde_json::json!({"method": m.method, "rows": rows})
                    })
                    .collect();
                say!(
                    "{}",
                    serde_json::json!({"series": report.series, "fitted": report.fitted, "threads": threads, "seconds": seconds, "methods": methods})
                );
            } else {
                print!("{report}");
                say!("wall time: {seconds:.2} s on {threads} threads for {} series", report.series);
            }
            Ok(())
        }
        Command::Import {
            entity,
            file,
            database_url,
            preset,
            mapping,
            dry_run,
            create_missing,
            foreign_ids,
            as_user,
            max_mib,
        } => {
            let entity = import::Entity::parse(&entity).map_err(|e| anyhow::anyhow!("{}", e.reason))?;
            let size = std::fs::metadata(&file).with_context(|| format!("cannot open {}", file.display()))?.len();
            if size > max_mib << 20 {
                bail!(
                    "{}: the file is {:.1} MiB; the limit is {max_mib} MiB (raise it with --max-mib)",
                    file.display(),
                    size as f64 / 1048576.0
                );
            }
            let data = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mapping = match mapping {
                Some(m) => Some(std::fs::read_to_string(&m).with_context(|| format!("cannot read {}", m.display()))?),
                None => None,
            };
            let store = open(&database_url, 2).await?;
            let app = App::new(store, Arc::new(SystemClock));
            let p = app.cli_principal(as_user.as_deref()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let opts = app::ImportOptions {
                entity,
                preset,
                mapping,
                dry_run,
                create_missing,
                foreign_ids,
                file_name: file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
                max_bytes: max_mib << 20,
            };
            let pb = progress_bar("import");
            pb.set_length(data.iter().filter(|b| **b == b'\n').count().saturating_sub(1) as u64);
            let started = std::time::Instant::now();
            let r = app.import_file(&p, &data, &opts, &|n| pb.inc(n)).await;
            pb.finish_and_clear();
            let r = r.map_err(|e| anyhow::anyhow!("{e}"))?;
            if cli.json {
                say!("{}", serde_json::to_string(&r)?);
            } else {
                for problem in &r.problems {
                    say!("{problem}");
                }
                let left = r.problem_count.saturating_sub(r.problems.len() as u64);
                if left > 0 {
                    say!("... and {left} more problems");
                }
                if !r.ignored_columns.is_empty() {
                    say!("columns not imported: {}", r.ignored_columns.join(", "));
                }
                let what = if r.applied { "imported" } else { "checked" };
                say!(
                    "{what} {} {} rows ({}): {} new, {} changed, {} unchanged{} in {:.1} s",
                    r.rows_read,
                    r.entity,
                    r.preset,
                    r.new,
                    r.changed,
                    r.unchanged,
                    if r.created_accounts > 0 {
                        format!(", {} accounts created", r.created_accounts)
                    } else {
                        String::new()
                    },
                    started.elapsed().as_secs_f64()
                );
            }
            if r.problem_count > 0 {
                let n = r.problem_count;
                bail!("{n} {}; nothing was written", if n == 1 { "problem" } else { "problems" });
            }
            if r.dry_run {
                say!("dry run: nothing was written");
            }
            Ok(())
        }
        Command::Forecast { command: ForecastCommand::Series { input, horizon, season, format } } => {
            forecast_cli::series(&input, horizon, season, format)
        }
        Command::Forecast { command: ForecastCommand::Call { command } } => {
            forecast_calls::run(command, cli.json).await
        }
        Command::Forecast { command: ForecastCommand::Pipeline(args) } => forecast_cli::pipeline(args).await,
        Command::Forecast { command: ForecastCommand::Backtest(args) } => forecast_cli::backtest(args).await,
        Command::User { command: UserCommand::Create { database_url, email, name, role, time_zone, locale } } => {
            let store = open(&database_url, 2).await?;
            let password = match std::env::var("SALESOPS_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("Password (then Enter):");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let new = store::NewUser {
                email: model::Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?,
                name: name.trim().to_string(),
                role: model::Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?,
                team_id: None,
                manager_id: None,
                region_id: None,
                time_zone: model::TimeZoneName::parse(&time_zone).map_err(|e| anyhow::anyhow!("{e}"))?,
                locale: model::Locale::parse(&locale).map_err(|e| anyhow::anyhow!("{e}"))?,
                password_hash: Some(app::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?),
            };
            if password.chars().count() < 10 {
                bail!("password: must be at least 10 characters");
            }
            if new.name.is_empty() {
                bail!("name: must not be empty");
            }
            let u = store.user_create(&store::AuditContext::system(jiff::Timestamp::now()), &new).await.map_err(
                |e| match e {
                    store::StoreError::Conflict(_) => anyhow::anyhow!("email: {email} is already in use"),
                    e => anyhow::anyhow!("{e}"),
                },
            )?;
            say!("created user {} ({})", u.user.id, u.user.email.as_str());
            Ok(())
        }
    }
}

fn report(json: bool, verb: &str, file: &std::path::Path, s: &store::BackupSummary) {
    if json {
        let tables: serde_json::Map<String, serde_json::Value> =
            s.tables.iter().map(|(t, n)| (t.clone(), (*n).into())).collect();
        say!("{}", serde_json::json!({"file": file.display().to_string(), "rows": s.rows(), "tables": tables}));
    } else {
        say!("{verb} {} rows in {} tables ({})", s.rows(), s.tables.len(), file.display());
    }
}

/// The logins of the demo company (fixed e-mails; see the demo crate).
fn demo_logins() -> Vec<(model::Role, String)> {
    model::Role::ALL.iter().map(|r| (*r, demo::login_email(*r).as_str().to_string())).collect()
}

fn logins_banner(logins: &[(model::Role, String)]) -> String {
    let t = web::i18n::Tr::new(model::Locale::En, model::TimeZoneName::utc());
    let mut s = format!("\nSign in with any of these (password: {}):\n", demo::DEMO_PASSWORD);
    for (role, email) in logins {
        s.push_str(&format!("  {:37} {}\n", t.role(*role), email));
    }
    s
}

async fn reset_database(url: &str) -> Result<()> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let path = path.split('?').next().unwrap_or(path);
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{path}{suffix}");
            if std::path::Path::new(&p).exists() {
                std::fs::remove_file(&p).with_context(|| format!("cannot delete {p}"))?;
            }
        }
        Ok(())
    } else {
        bail!("--reset only deletes SQLite demo files; for PostgreSQL, create a new empty database instead")
    }
}

struct BenchLimits {
    concurrency: usize,
    requests: usize,
    max_seconds: u64,
    max_connections: u32,
    only: Option<String>,
}

async fn bench_http(url: &str, scale: ScaleArg, seed: u64, limits: &BenchLimits, json: bool) -> Result<()> {
    let BenchLimits { concurrency, requests, max_seconds, .. } = *limits;
    let store = open(url, limits.max_connections).await?;
    if store.is_empty().await? {
        let pb = progress_bar("demo data");
        app::load_demo(&store, scale.into(), seed, jiff::Timestamp::now(), &|n| pb.set_length(n), &|n| pb.inc(n))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        pb.finish_and_clear();
    }
    let counts = store.record_counts().await?;
    let app = App::new(store.clone(), Arc::new(SystemClock));
    // The KPI rollups are built once after a load (the dashboards then read only them).
    let started = std::time::Instant::now();
    let refreshed = app.kpi_rollups_refresh().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !json && refreshed.owners > 0 {
        say!(
            "KPI rollups: {} owners, {} daily cells built in {:.1} s",
            refreshed.owners,
            refreshed.cells,
            started.elapsed().as_secs_f64()
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router =
        web::router(web::AppState::new(app.clone())).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum_serve(listener, router, stopped).await;
    });
    let cookie = |out: app::LoginOutcome| format!("{}={}", web::SESSION_COOKIE, out.session_token);
    let login = |email: &'static str| {
        let app = app.clone();
        async move { app.login(email, demo::DEMO_PASSWORD, None).await.map_err(|e| anyhow::anyhow!("sign-in {email}: {e}")) }
    };
    let head = cookie(login("head@demo.salesops.io").await?);
    let manager = cookie(login("manager@demo.salesops.io").await?);
    let rep = cookie(login("rep@demo.salesops.io").await?);
    let targets = [
        ("page /opportunities (head, all)", "/opportunities", &head),
        ("page /opportunities (rep, own)", "/opportunities", &rep),
        ("page /accounts (manager, subtree)", "/accounts", &manager),
        ("api /api/v1/opportunities (head)", "/api/v1/opportunities?limit=50", &head),
        ("api /api/v1/accounts?q=bv (head)", "/api/v1/accounts?q=b.v&limit=50", &head),
        ("api /api/v1/accounts?q=bakk (head, search)", "/api/v1/accounts?q=bakk&limit=50", &head),
        ("api /api/v1/opportunities?q=bakk (head, search)", "/api/v1/opportunities?q=bakk&limit=50", &head),
        ("api /api/v1/opportunities?q=van+dijk (head, 2 words)", "/api/v1/opportunities?q=van+dijk&limit=50", &head),
        ("page /opportunities?q=bakk (rep, search)", "/opportunities?q=bakk", &rep),
        (
            "api /api/v1/opportunities?sort=amount (manager)",
            "/api/v1/opportunities?sort=amount&dir=desc&limit=50",
            &manager,
        ),
        ("api /api/v1/opportunities (manager)", "/api/v1/opportunities?status=open&limit=50", &manager),
        ("page /opportunities?owner+stage (head)", "/opportunities?owner_id=30&stage_id=4", &head),
        ("page /opportunities/{id} (rep, history)", "/opportunities/1", &head),
        ("page /dashboard (head of ops, company)", "/dashboard", &head),
        ("page /dashboard (manager, team)", "/dashboard", &manager),
        ("page /dashboard (rep, own)", "/dashboard", &rep),
        (
            "api /api/v1/kpis by region (head, rollups)",
            "/api/v1/kpis?metric=revenue,win_rate,open_pipeline,calls_placed&by=region&period=2026-Q1&compare=previous",
            &head,
        ),
    ];
    let backend = format!("{:?}", store.backend());
    if !json {
        say!(
            "salesops bench http: {backend}, {concurrency} connections, up to {requests} requests or {max_seconds} s per endpoint"
        );
        say!("data: {}", counts.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", "));
        say!(
            "{:40} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "endpoint",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms"
        );
    }
    let mut results = vec![];
    for (name, path, cookie) in targets {
        if limits.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let target = bench::Target { name: name.into(), path: path.into(), cookie: cookie.clone() };
        // The load runs on its own thread and runtime, like an external load tool, so client
        // tasks do not queue behind the server's on the same workers.
        let f = std::thread::spawn(move || -> Result<bench::Figures> {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                // A short warm-up fills caches and the connection pool.
                bench::run(addr, &target, concurrency, concurrency * 2, Duration::from_secs(5)).await?;
                bench::run(addr, &target, concurrency, requests, Duration::from_secs(max_seconds)).await
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("load thread panicked"))??;
        if !json {
            say!(
                "{:40} {:>8} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                f.name,
                f.requests,
                f.throughput(),
                f.p50_ms,
                f.p95_ms,
                f.p99_ms,
                f.max_ms
            );
        }
        results.push(f);
    }
    if json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|f| {
                serde_json::json!({"endpoint": f.name, "requests": f.requests, "throughput": f.throughput(),
                "p50_ms": f.p50_ms, "p95_ms": f.p95_ms, "p99_ms": f.p99_ms, "max_ms": f.max_ms})
            })
            .collect();
        say!("{}", serde_json::json!({"backend": backend, "concurrency": concurrency, "results": rows}));
    }
    let _ = stop.send(());
    let _ = server.await;
    Ok(())
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, std::net::SocketAddr>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await;
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn bench_import(url: &str, rows: usize, reimport: bool, json: bool) -> Result<()> {
    let store = open(url, 4).await?;
    if store.is_empty().await? {
        app::load_demo(&store, demo::Scale::Small, 42, jiff::Timestamp::now(), &|_| {}, &|_| {})
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let app = App::new(store.clone(), Arc::new(SystemClock));
    let p = app.cli_principal(None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // A file as another salesops (or a cleaned CRM export) would write it.
    let generated = Instant::now();
    let accounts: Vec<i64> = store.import_lookups().await?.account_ids.into_iter().collect();
    let reps = ["rep@demo.salesops.io", "manager@demo.salesops.io", "salesops@demo.salesops.io"];
    let stages =
        [("Prospecting", "Qualification"), ("Qualification", "Needs analysis"), ("Needs analysis", "Proposal")];
    let base = jiff::Timestamp::from_second(1_735_689_600)?; // 2025-01-01
    let mut out = import::Exporter::new(Vec::with_capacity(rows * 260), import::Entity::Opportunities)?;
    for i in 0..rows {
        let (from, to) = stages[i % stages.len()];
        let created = base + jiff::SignedDuration::from_secs((i as i64 * 31) % 31_000_000);
        let moved = created + jiff::SignedDuration::from_hours(24 * (1 + (i as i64 % 40)));
        let row = import::OpportunityRow {
            id: None,
            external_id: Some(format!("BENCH-{i:07}")),
            name: format!("Bench deal {i}"),
            account: import::Ref::Id(accounts[i % accounts.len()]),
            owner_email: Some(reps[i % reps.len()].to_string()),
            pipeline: Some("New business".into()),
            stage: to.into(),
            amount: model::Money::new(
                rust_decimal::Decimal::new(100_000 + (i as i64 * 7919) % 9_000_000, 2),
                model::Currency::EUR,
            ),
            close_date: (moved + jiff::SignedDuration::from_hours(24 * 60)).to_zoned(jiff::tz::TimeZone::UTC).date(),
            probability: None,
            forecast_category: None,
            loss_reason: None,
            lead_source: Some("Website".into()),
            engaged_on: None,
            created_at: Some(created),
            stage_entered: vec![(from.to_string(), created), (to.to_string(), moved)],
        };
        out.write(&row)?;
    }
    let data = out.finish()?;
    let gen_s = generated.elapsed().as_secs_f64();
    let rss_before = peak_rss_mib();
    let opts = app::ImportOptions {
        entity: import::Entity::Opportunities,
        preset: Some("salesops".into()),
        mapping: None,
        dry_run: false,
        create_missing: false,
        foreign_ids: false,
        file_name: "bench.csv".into(),
        max_bytes: 4 << 30,
    };
    let started = Instant::now();
    let r = app.import_file(&p, &data, &opts, &|_| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let import_s = started.elapsed().as_secs_f64();
    if r.problem_count > 0 {
        bail!("the generated file has {} problems: {:?}", r.problem_count, r.problems.first());
    }
    let rss_after = peak_rss_mib();
    let mut again_s = None;
    if reimport {
        let started = Instant::now();
        let r2 = app.import_file(&p, &data, &opts, &|_| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        again_s = Some(started.elapsed().as_secs_f64());
        if r2.new + r2.changed > 0 {
            bail!("re-import changed {} rows", r2.new + r2.changed);
        }
    }
    let mib = data.len() as f64 / 1048576.0;
    if json {
        say!(
            "{}",
            serde_json::json!({"rows": rows, "file_mib": mib, "generate_s": gen_s, "import_s": import_s,
                "rows_per_s": rows as f64 / import_s, "peak_rss_mib_before": rss_before, "peak_rss_mib_after": rss_after,
                "reimport_s": again_s, "new": r.new})
        );
    } else {
        say!("generated {rows} rows ({mib:.0} MiB CSV) in {gen_s:.1} s");
        say!(
            "imported {} new opportunities (+{} stage-history rows) in {import_s:.2} s = {:.0} rows/s",
            r.new,
            2 * r.new,
            rows as f64 / import_s
        );
        say!(
            "peak memory: {:.0} MiB before the import (file in memory), {:.0} MiB after",
            rss_before.unwrap_or(0.0),
            rss_after.unwrap_or(0.0)
        );
        if let Some(s) = again_s {
            say!("re-import of the same file: {s:.2} s, nothing changed");
        }
    }
    Ok(())
}
