//! The expiration service. Placeholder until its issue lands: it builds so the workspace
//! layout is complete, and does nothing.

fn main() {
    eprintln!("expiration: not built yet");
    std::process::exit(1);
}
