#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = orders::config::Settings::from_env()?;
    common::telemetry::init("orders", !settings.service.http.dev_mode);
    let app = orders::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "orders listening");
    app.run_until_stopped().await?;
    Ok(())
}
