#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = auth::config::from_env()?;
    common::telemetry::init(!settings.dev_mode);
    let app = auth::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "auth listening");
    app.run_until_stopped().await?;
    Ok(())
}
