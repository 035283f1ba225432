#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = expiration::config::Settings::from_env()?;
    common::telemetry::init("expiration", !settings.http.dev_mode);
    let app = expiration::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "expiration listening");
    app.run_until_stopped().await?;
    Ok(())
}
