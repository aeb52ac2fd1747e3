//! The command line: `serve` (default), `eval`, `rules check`, `population run`.

mod population;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::cds::load_services;
use crate::cds::request::parse_hook_request;
use crate::cds::response::CdsResponse;
use crate::config::Settings;
use crate::engine::load;
use crate::hook::{self, Source};
use crate::startup::Application;

/// cart-sentinel: CDS Hooks 2.0 decision support for patients after CAR-T cell therapy.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (configuration from `SENTINEL_CONFIG` and SENTINEL__* variables).
    Serve,
    /// Print the response the service would return for a hook request; no server, no network.
    Eval {
        /// A CDS Hooks request (JSON).
        request: PathBuf,
        /// Evaluation time (RFC 3339); default: now.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// Pack directory (with services/, rules/, valuesets/, cohort.yaml).
        #[arg(long, default_value = "cds-hooks")]
        rules: PathBuf,
    },
    /// Admin API commands.
    Admin {
        /// Admin subcommand.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Rule pack commands.
    Rules {
        /// Rule pack subcommand.
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Population runs: the active pack over a Bulk Data export, and the worklist it leaves.
    Population {
        /// Population subcommand.
        #[command(subcommand)]
        command: PopulationCommand,
    },
}

/// `population` subcommands (configuration as for `serve`: the same store and time zone).
#[derive(Debug, Subcommand)]
pub enum PopulationCommand {
    /// Run the active pack over the `*.ndjson` files of a directory; exits 1 when the run
    /// fails (the worklist then stays as it was).
    Run {
        /// Directory of a Bulk Data export (one resource per line, any type in any file).
        #[arg(long, required_unless_present = "bulk", conflicts_with = "bulk")]
        ndjson: Option<PathBuf>,
        /// Run a Bulk Data `$export` from the `[bulk]` server first (limited to the resource
        /// types the active pack reads) and run over what it downloaded.
        #[arg(long)]
        bulk: bool,
        /// The run's "now" (RFC 3339); default: now.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
    },
    /// Print the worklist's open findings, tab-separated (or CSV), oldest first.
    Findings(population::FindingsArgs),
}

/// `admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Mint a development admin token (development mode only; the key is generated under the
    /// data directory on first use and trusted by a development server using the same directory).
    Token {
        /// Scopes to grant.
        #[arg(long = "scope", default_values = ["rules:read", "rules:write", "audit:read"])]
        scopes: Vec<String>,
        /// Who the token speaks for (recorded in the audit log).
        #[arg(long, default_value = "developer")]
        sub: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

/// `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a pack; exits 1 and lists every problem with its file and path.
    Check {
        /// Pack directory.
        #[arg(default_value = "cds-hooks")]
        dir: PathBuf,
    },
    /// Print the discovery document a pack gives (its services with the prefetch its active
    /// rules need), as `GET /cds-services` would.
    Discovery {
        /// Pack directory.
        #[arg(default_value = "cds-hooks")]
        dir: PathBuf,
    },
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = Settings::load().context("loading settings")?;
            crate::telemetry::init(&settings.log.filter, &settings.log.format);
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            request,
            now,
            rules,
        } => eval(&request, now.unwrap_or_else(Utc::now), &rules).await,
        Command::Admin {
            command: AdminCommand::Token { scopes, sub, ttl },
        } => {
            let settings = Settings::load().context("loading settings")?;
            anyhow::ensure!(
                settings.server.mode == crate::config::Mode::Development,
                "admin tokens come from your identity provider in production; `admin token` only works in development mode"
            );
            println!(
                "{}",
                crate::admin::keys::mint_dev_token(
                    &settings,
                    &sub,
                    &scopes,
                    i64::try_from(ttl).unwrap_or(i64::MAX)
                )?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => Ok(check(&dir)),
        Command::Rules {
            command: RulesCommand::Discovery { dir },
        } => discovery(&dir),
        Command::Population {
            command: PopulationCommand::Run { ndjson, bulk, now },
        } => {
            let input = match ndjson {
                Some(dir) if !bulk => population::Input::Ndjson(dir),
                _ => population::Input::Bulk,
            };
            population::run(input, now).await
        }
        Command::Population {
            command: PopulationCommand::Findings(args),
        } => population::findings(args).await,
    }
}

fn discovery(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let pack = load::compile_dir(dir).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the pack was not accepted:\n{}", lines.join("\n"))
    })?;
    let services = load_services(&dir.join("services")).map_err(anyhow::Error::msg)?;
    let doc = crate::cds::DiscoveryResponse {
        services: services
            .iter()
            .map(|s| s.with_prefetch(pack.prefetch(&s.hook)))
            .collect(),
    };
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &std::path::Path) -> ExitCode {
    let max_detail = Settings::load().map_or(500, |s| s.rules.max_detail_chars);
    match load::compile_dir(dir) {
        Ok(pack) => {
            let long = crate::engine::long_details(pack.pack(), max_detail);
            for w in pack.warnings().iter().chain(&long) {
                eprintln!("warning: {w}");
            }
            let p = pack.pack();
            println!(
                "ok: {} rules, {} value sets in {}",
                p.rules.len(),
                p.valuesets.len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s); the pack was not accepted", problems.len());
            ExitCode::FAILURE
        }
    }
}

async fn eval(
    path: &std::path::Path,
    now: DateTime<Utc>,
    dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let services = load_services(&dir.join("services")).map_err(anyhow::Error::msg)?;
    let hook_name = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("hook").and_then(|h| h.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let service = services
        .iter()
        .find(|s| s.hook == hook_name)
        .with_context(|| format!("no service in {} answers hook `{hook_name}`", dir.display()))?;
    let mut req = parse_hook_request(&body, &service.hook)
        .map_err(|e| anyhow::anyhow!("invalid request: {e}"))?;
    let pack = match load::compile_dir(dir) {
        Ok(p) => p,
        Err(problems) => {
            problems.iter().for_each(|p| eprintln!("{p}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    let tz = Settings::load()
        .ok()
        .and_then(|s| s.time_zone().ok())
        .unwrap_or(chrono_tz::Tz::UTC);
    let answer = hook::answer(&pack, service, &mut req, Source::Offline, tz, now)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    for w in &answer.warnings {
        eprintln!("warning: {w}");
    }
    let response = CdsResponse {
        cards: answer.cards,
        system_actions: Vec::new(),
    };
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(ExitCode::SUCCESS)
}
