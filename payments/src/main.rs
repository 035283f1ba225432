#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = payments::config::Settings::from_env()?;
    common::telemetry::init("payments", !settings.service.http.dev_mode);
    let app = payments::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "payments listening");
    app.run_until_stopped().await?;
    Ok(())
}
