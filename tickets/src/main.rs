#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = tickets::config::Settings::from_env()?;
    common::telemetry::init("tickets", !settings.service.http.dev_mode);
    let app = tickets::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "tickets listening");
    app.run_until_stopped().await?;
    Ok(())
}
