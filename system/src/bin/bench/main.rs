//! `make bench`: the whole platform from release builds, as `make up` runs
//! it, under load. Prints a table and writes it to BENCHMARKS.md with a
//! description of the machine. Throughput is given as a ratio to the
//! ceiling measured in the same run, the same work done directly against
//! the servers, because these machines are shared and their speed varies.

mod burst;
mod catalogue;
mod ceiling;
mod expiry;
mod load;
mod stats;

use std::fmt::Write as _;
use std::time::Duration;

use system::{Platform, Profile};

use crate::load::Load;
use crate::stats::{Run, Spread, ms};

/// Orders in flight at once when measuring throughput.
const CONCURRENCY: usize = 32;
/// Turns the ceiling and the orders service take, each on an equal share of
/// the orders: the machine's speed drifts, and both should meet the same.
const ROUNDS: usize = 4;
/// Tickets put on sale per second, and for how long, when measuring
/// propagation; each of them is then ordered in the throughput run.
const EVENTS_PER_SECOND: u32 = 500;
const PROPAGATION_SECONDS: u32 = 10;
const BUYERS: usize = 1000;
const CONTESTED: usize = 100;
/// Orders pending at once in the expiry run, placed (and so coming due)
/// this many a second: a pace the platform sustains on this machine, so that
/// lateness measures the schedule, not a backlog of cancellations.
const PENDING: usize = 10_000;
const EXPIRY_RATE: u32 = 50;
const IDLE_LIMIT_KB: u64 = 20 * 1024;

struct Figures {
    idle: Vec<(&'static str, u64)>,
    loaded: Vec<(&'static str, u64)>,
    ceiling: Run,
    orders: Run,
    drain: Duration,
    rate: f64,
    lag: Spread,
    settle: Duration,
    lateness: Spread,
    peak_pending: usize,
    catalogue: Vec<catalogue::Catalogue>,
    burst: burst::Burst,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `bench expiry N`: only the expiry run, with N pending, printed.
    // `bench orders`: only the ceiling and the orders at saturation, printed.
    // `bench propagation`: only the lag of new tickets at 500 a second, printed.
    // `bench catalogue`, `bench burst`: only those rows, printed.
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("expiry") => {
            let pending = args.get(1).map_or(Ok(PENDING), |n| n.parse())?;
            let (lateness, peak) = expiry(pending).await?;
            println!(
                "expiry lateness with {peak} pending: p50 {}, p99 {}",
                ms(lateness.percentile(50.0)),
                ms(lateness.percentile(99.0))
            );
            return Ok(());
        }
        Some("burst") => {
            print!("{}", burst::row(&burst::measure().await?));
            return Ok(());
        }
        Some("catalogue") => {
            let figures = catalogue::measure().await?;
            print!("{}", catalogue::rows(&figures));
            return Ok(());
        }
        Some("propagation") => {
            let platform = Platform::launch(Duration::from_secs(900), Profile::Release).await;
            let load = Load::new(&platform).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (_, rate, lag) = load
                .propagation(EVENTS_PER_SECOND, PROPAGATION_SECONDS)
                .await?;
            println!(
                "propagation at {rate:.0} tickets/s: p50 {}, p99 {}",
                ms(lag.percentile(50.0)),
                ms(lag.percentile(99.0))
            );
            return Ok(());
        }
        Some("orders") => {
            let platform = Platform::launch(Duration::from_secs(900), Profile::Release).await;
            let load = Load::new(&platform).await?;
            let orders = (EVENTS_PER_SECOND * PROPAGATION_SECONDS) as usize;
            let tickets = load.sell_many(orders, CONCURRENCY).await?;
            let (ceiling, placed, drain) = against_ceiling(&platform, &load, &tickets).await?;
            println!(
                "ceiling {:.0}/s, orders {:.0}/s ({} refused): {:.0} %; latency p50 {}, p99 {}; drained after {:.2} s",
                ceiling.per_second(),
                placed.per_second(),
                placed.failures,
                100.0 * placed.per_second() / ceiling.per_second(),
                ms(placed.latency.percentile(50.0)),
                ms(placed.latency.percentile(99.0)),
                drain.as_secs_f64(),
            );
            return Ok(());
        }
        _ => {}
    }
    let figures = measure().await?;
    let report = report(&figures);
    print!("{report}");
    let path = system::workspace_root().join("BENCHMARKS.md");
    std::fs::write(&path, report)?;
    eprintln!("written to {}", path.display());
    Ok(())
}

async fn measure() -> anyhow::Result<Figures> {
    eprintln!("starting the platform from release builds");
    let platform = Platform::launch(Duration::from_secs(900), Profile::Release).await;
    let load = Load::new(&platform).await?;
    // A moment for start-up work (indexes, streams, first pulls) to finish.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = load.resident_memory();

    eprintln!("propagation: {EVENTS_PER_SECOND} tickets a second for {PROPAGATION_SECONDS} s");
    let (tickets, rate, lag) = load
        .propagation(EVENTS_PER_SECOND, PROPAGATION_SECONDS)
        .await?;
    // Contention before saturation, whose events keep the services busy
    // for a while after it: the buyers meet a quiet platform.
    eprintln!("contention: {BUYERS} buyers for {CONTESTED} tickets");
    let contested = load.sell_many(CONTESTED, CONCURRENCY).await?;
    let settle = load.settle(&contested, BUYERS).await?;
    eprintln!(
        "orders: {} orders, {CONCURRENCY} at a time, in {ROUNDS} turns with the ceiling",
        tickets.len()
    );
    let (ceiling, placed, drain) = against_ceiling(&platform, &load, &tickets).await?;
    let loaded = load.resident_memory();
    drop(load);
    drop(platform);

    let (lateness, peak_pending) = expiry(PENDING).await?;
    let catalogue = catalogue::measure().await?;
    let burst = burst::measure().await?;

    Ok(Figures {
        idle,
        loaded,
        ceiling,
        orders: placed,
        drain,
        rate,
        lag,
        settle,
        lateness,
        peak_pending,
        catalogue,
        burst,
    })
}

/// The ceiling and the orders service in turns, each on a share of
/// `tickets.len()` orders (the ceiling on tickets of its own). Before the
/// ceiling's next turn, the services finish the work the service's orders
/// set off (holds, replicas, schedules): the longest that took is returned.
async fn against_ceiling(
    platform: &Platform,
    load: &Load<'_>,
    tickets: &[mongodb::bson::oid::ObjectId],
) -> anyhow::Result<(Run, Run, Duration)> {
    let (mut ceiling, mut placed, mut drain) = (Vec::new(), Vec::new(), Duration::ZERO);
    for share in tickets.chunks(tickets.len().div_ceil(ROUNDS)) {
        ceiling.push(ceiling::run(platform, share.len(), CONCURRENCY).await?);
        placed.push(load.saturate_orders(share, CONCURRENCY).await?);
        drain = drain.max(load.drained().await?);
    }
    Ok((Run::combined(ceiling), Run::combined(placed), drain))
}

async fn expiry(pending: usize) -> anyhow::Result<(Spread, usize)> {
    eprintln!("expiry: {pending} pending orders, placed and expiring {EXPIRY_RATE} a second");
    // Orders hold their ticket a little longer than placing them all takes,
    // so that all of them are pending at once.
    let window = Duration::from_secs(pending as u64 / u64::from(EXPIRY_RATE) + 10);
    let platform = Platform::launch(window, Profile::Release).await;
    let load = Load::new(&platform).await?;
    let tickets = load.sell_many(pending, CONCURRENCY).await?;
    load.expiry(&tickets, EXPIRY_RATE).await
}

fn report(f: &Figures) -> String {
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let ratio = f.orders.per_second() / f.ceiling.per_second();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `make bench` on {}. The platform runs from release builds exactly as \
         `make up` runs it (servers, six services, nginx), on {}.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine()
    );
    let _ = writeln!(out, "| measure | result | target | |\n|---|---|---|---|");
    let _ = writeln!(
        out,
        "| ceiling: an order's Mongo transaction and JetStream publish, no service, {CONCURRENCY} at a time, in {ROUNDS} turns with the service | {:.0} orders/s (p50 {}, p99 {}) | | |",
        f.ceiling.per_second(),
        ms(f.ceiling.latency.percentile(50.0)),
        ms(f.ceiling.latency.percentile(99.0)),
    );
    let _ = writeln!(
        out,
        "| `POST /api/orders` at saturation, {CONCURRENCY} at a time ({} refused) | {:.0} orders/s, **{:.0} %** of the ceiling | ≥ 50 % | {} |",
        f.orders.failures,
        f.orders.per_second(),
        ratio * 100.0,
        verdict(ratio >= 0.5)
    );
    let _ = writeln!(
        out,
        "| `POST /api/orders` latency at saturation | p50 {}, p99 {} | | |",
        ms(f.orders.latency.percentile(50.0)),
        ms(f.orders.latency.percentile(99.0)),
    );
    let _ = writeln!(
        out,
        "| after a turn's last order, until every service has handled every event (the longest of the {ROUNDS} turns) | {:.2} s | | |",
        f.drain.as_secs_f64(),
    );
    let lag99 = f.lag.percentile(99.0);
    let _ = writeln!(
        out,
        "| ticket created until orders has it, at {:.0} tickets/s | p50 {}, p99 {} | p99 < 50 ms | {} |",
        f.rate,
        ms(f.lag.percentile(50.0)),
        ms(lag99),
        verdict(lag99 < Duration::from_millis(50))
    );
    let _ = writeln!(
        out,
        "| {BUYERS} buyers at once for {CONTESTED} tickets, until tickets holds each for its winner | {:.2} s | | |",
        f.settle.as_secs_f64()
    );
    let late99 = f.lateness.percentile(99.0);
    let _ = writeln!(
        out,
        "| expiry lateness (`order.cancelled` on the bus minus `expiresAt`), {} pending at once, coming due {EXPIRY_RATE} a second | p50 {}, p99 {} | p99 < 1 s | {} |",
        f.peak_pending,
        ms(f.lateness.percentile(50.0)),
        ms(late99),
        verdict(late99 < Duration::from_secs(1))
    );
    out += &catalogue::rows(&f.catalogue);
    out += &burst::row(&f.burst);
    for ((service, idle), (_, loaded)) in f.idle.iter().zip(&f.loaded) {
        let _ = writeln!(
            out,
            "| resident memory of {service}, idle (after the load) | {:.1} MB ({:.1} MB) | < 20 MB idle | {} |",
            *idle as f64 / 1024.0,
            *loaded as f64 / 1024.0,
            verdict(*idle < IDLE_LIMIT_KB)
        );
    }
    let _ = writeln!(
        out,
        "\nHow each figure is taken: `system/src/bin/bench/`. Orders go straight to the orders \
         service, as the ceiling's work goes straight to the servers; the two take {ROUNDS} turns \
         each, and the services finish the work a turn's orders set off before the ceiling goes \
         again. The {BUYERS} buyers go through nginx. Propagation lag ends when a change \
         stream on the orders service's replica reports the insert. Run it again with `make bench`."
    );
    out
}

/// The CPU, cores, memory, kernel and servers, read off this machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = |program: &str, flag: &str| {
        std::process::Command::new(program)
            .arg(flag)
            .output()
            .ok()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|| format!("{program} (version unknown)"))
    };
    let mongo = match std::env::var("MONGO_SERVER").as_deref() {
        Ok("rust") => version("secantusd-rs", "--version"),
        _ => "SecantusDB (Python)".into(),
    };
    format!(
        "{cores} cores of {cpu}, {memory_gib:.0} GiB, Linux {}; {}, {}, {}",
        kernel.trim(),
        version("nats-server", "--version"),
        version("redis-server", "--version"),
        mongo
    )
}
