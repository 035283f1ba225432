//! `ops check` and `ops wait-ready`.

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
    /// Waits until every Deployment and StatefulSet of a namespace is ready.
    WaitReady {
        #[arg(long, short)]
        namespace: String,
        /// Seconds to wait before giving up.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
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
