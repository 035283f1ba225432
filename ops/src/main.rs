//! `ops check`, `ops wait-ready`, `ops dead-letters`, `ops redeliver`,
//! `ops rebuild`, `ops openapi`, `ops nats-config`, `ops nats-users`.
//! Exit codes: 0 done, 1 something was refused or failed, 2 the platform
//! (or the cluster) could not be reached.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Operations tooling for the ticketing platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Renders base, dev and prod with kustomize and checks them against the platform's rules.
    Check {
        /// The folder holding the base and the overlays.
        #[arg(long, default_value = "infra/k8s")]
        k8s: PathBuf,
        /// The skaffold file naming the images it builds.
        #[arg(long, default_value = "skaffold.yaml")]
        skaffold: PathBuf,
    },
    /// Lists the parked messages of a running platform (NATS_URL, NATS_PREFIX).
    DeadLetters {
        /// Only this consumer's, e.g. `tickets-order-created`.
        #[arg(long)]
        consumer: Option<String>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publishes dead letters again on their original subjects and removes them.
    Redeliver {
        /// The dead letters' sequences, as `dead-letters` shows them.
        #[arg(required_unless_present = "consumer", conflicts_with = "consumer")]
        seqs: Vec<u64>,
        /// Every dead letter of this consumer.
        #[arg(long)]
        consumer: Option<String>,
        /// One JSON array, an entry per dead letter, instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Rebuilds a service's replica from the whole log while it serves (MONGO_URI or MONGO_URI_FILE, MONGO_DB).
    Rebuild {
        #[arg(value_parser = ["orders", "payments"])]
        service: String,
        /// One JSON object instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Writes the platform's OpenAPI document (`openapi.json`) from the services' code.
    Openapi {
        /// Where to write it.
        #[arg(long, default_value = ops::openapi::FILE)]
        out: PathBuf,
    },
    /// Writes the NATS server's accounts, derived from the event catalogue.
    NatsConfig {
        /// The subjects' prefix (`NATS_PREFIX`).
        #[arg(long, default_value = "ticketing", conflicts_with = "k8s")]
        prefix: String,
        /// The stream (`NATS_STREAM`).
        #[arg(long, default_value = common::config::DEFAULT_STREAM, conflicts_with = "k8s")]
        stream: String,
        /// The file defining the passwords' variables, from the config's folder.
        #[arg(long, default_value = "nats-users.conf", conflicts_with = "k8s")]
        include: String,
        /// Where to write them.
        #[arg(long, required_unless_present = "k8s")]
        out: Option<PathBuf>,
        /// Rewrites instead the generated part of the committed Kubernetes configs.
        #[arg(long)]
        k8s: Option<PathBuf>,
    },
    /// Writes the file of passwords the accounts include, from one file per user.
    NatsUsers {
        /// A folder holding a file per user (auth, tickets, orders, expiration, payments, ops).
        #[arg(long)]
        passwords_from: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// First writes a new random password for every user into that folder (`make up` does).
        #[arg(long)]
        fresh: bool,
    },
    /// Waits until every Deployment and StatefulSet of a namespace is ready.
    WaitReady {
        #[arg(long, short)]
        namespace: String,
        /// Seconds to wait before giving up.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

/// A platform that cannot be reached.
const UNREACHABLE: u8 = 2;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::DeadLetters { consumer, json } => {
            let Some(log) = reach().await else {
                return Ok(ExitCode::from(UNREACHABLE));
            };
            let letters = log.dead_letters(consumer.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letters)?);
            } else if letters.is_empty() {
                println!("no dead letters");
            } else {
                print!("{}", ops::event_log::table(&letters));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rebuild { service, json } => {
            let Some(log) = reach().await else {
                return Ok(ExitCode::from(UNREACHABLE));
            };
            let definition = ops::rebuild::definition(&service).expect("clap allows only these");
            let Some(mongo_uri) =
                common::config::optional_secret("MONGO_URI")?.map(|u| u.expose().to_string())
            else {
                eprintln!("error: MONGO_URI is not set: where is {service}'s database?");
                return Ok(ExitCode::from(UNREACHABLE));
            };
            let database = std::env::var("MONGO_DB").unwrap_or_else(|_| service.clone());
            match ops::rebuild::rebuild(&log, &mongo_uri, &database, definition).await {
                Ok(report) if json => {
                    let s = &report.switched;
                    let left_out: Vec<_> = report
                        .unreadable
                        .iter()
                        .map(|(seq, why)| serde_json::json!({ "seq": seq, "why": why }))
                        .collect();
                    let said = serde_json::json!({
                        "service": service,
                        "events": report.events,
                        "records": report.records,
                        "passes": report.passes,
                        "inserted": s.inserted,
                        "updated": s.updated,
                        "same": s.same,
                        "unknown": s.unknown,
                        "left_out": left_out,
                    });
                    println!("{}", serde_json::to_string_pretty(&said)?);
                    Ok(ExitCode::SUCCESS)
                }
                Ok(report) => {
                    let s = &report.switched;
                    println!(
                        "{service}: replayed {} events into {} records in {} pass(es); switched {} \
                         inserted, {} updated, {} already equal; {} live records the log does not \
                         know yet were left as they are",
                        report.events,
                        report.records,
                        report.passes,
                        s.inserted,
                        s.updated,
                        s.same,
                        s.unknown
                    );
                    for (seq, why) in &report.unreadable {
                        println!("  left out event {seq}, which cannot be replayed: {why}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("error: {err:#}");
                    let unreachable = format!("{err:#}").contains("cannot reach");
                    Ok(ExitCode::from(if unreachable { UNREACHABLE } else { 1 }))
                }
            }
        }
        Command::Redeliver {
            seqs,
            consumer,
            json,
        } => {
            let Some(log) = reach().await else {
                return Ok(ExitCode::from(UNREACHABLE));
            };
            let seqs = match consumer {
                Some(consumer) => {
                    let letters = log.dead_letters(Some(&consumer)).await?;
                    letters.iter().map(|l| l.seq).collect()
                }
                None => seqs,
            };
            let mut refused = 0;
            let mut said = Vec::new();
            for seq in seqs {
                match log.redeliver(seq).await {
                    Ok(subject) if json => {
                        said.push(serde_json::json!({ "seq": seq, "redelivered": true, "subject": subject }));
                    }
                    Ok(subject) => println!("{seq}: redelivered on {subject}"),
                    Err(err) => {
                        if json {
                            let why = format!("{err:#}");
                            said.push(serde_json::json!({ "seq": seq, "redelivered": false, "error": why }));
                        } else {
                            eprintln!("{seq}: {err:#}");
                        }
                        refused += 1;
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&said)?);
            }
            Ok(if refused == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Check { k8s, skaffold } => {
            let skaffold = std::fs::read_to_string(&skaffold)?;
            let mut broken = 0;
            for (overlay, production) in ops::OVERLAYS {
                let violations = ops::check_overlay(&k8s, overlay, production, &skaffold)?;
                for violation in &violations {
                    eprintln!("{overlay}: {violation}");
                }
                println!("{overlay}: {} violation(s)", violations.len());
                broken += violations.len();
            }
            Ok(if broken == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Openapi { out } => {
            std::fs::write(&out, ops::openapi::render())?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::NatsConfig {
            prefix,
            stream,
            include,
            out,
            k8s,
        } => {
            if let Some(root) = k8s {
                for (path, committed, wanted) in ops::nats::k8s_configs(&root)? {
                    if committed != wanted {
                        std::fs::write(&path, wanted)?;
                        println!("wrote {}", path.display());
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let out = out.expect("clap requires it without --k8s");
            std::fs::write(&out, ops::nats::accounts(&prefix, &stream, &include))?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::NatsUsers {
            passwords_from,
            out,
            fresh,
        } => {
            if fresh {
                ops::nats::write_fresh_passwords(&passwords_from)?;
            }
            let passwords = ops::nats::read_passwords(&passwords_from)?;
            ops::nats::write_private(&out, &ops::nats::users_include(&passwords)?)?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::WaitReady { namespace, timeout } => {
            let waiting = ops::ready::wait_ready(&namespace, Duration::from_secs(timeout)).await?;
            for workload in &waiting {
                eprintln!("not ready: {workload}");
            }
            if waiting.is_empty() {
                println!("every Deployment and StatefulSet in {namespace} is ready");
            }
            Ok(if waiting.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The running platform's log, or `None` once it said why it cannot be reached.
async fn reach() -> Option<ops::event_log::Log> {
    let reached = match ops::event_log::Platform::from_env() {
        Ok(platform) => platform.log().await,
        Err(err) => Err(err),
    };
    reached.map_err(|err| eprintln!("error: {err:#}")).ok()
}
