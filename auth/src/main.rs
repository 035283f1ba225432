/// jemalloc, with its background thread, gives freed memory back to the
/// system within seconds: glibc's malloc kept each argon2 block (19 MiB) and
/// a burst's buffers in its per-thread heaps, and auth held 300 MB for good
/// after 500 sign-ins at once.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = auth::config::Settings::from_env()?;
    common::telemetry::init("auth", !settings.service.http.dev_mode);
    let app = auth::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "auth listening");
    app.run_until_stopped().await?;
    Ok(())
}
