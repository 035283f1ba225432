#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = client::config::Settings::from_env()?;
    common::telemetry::init("client", !settings.http.dev_mode);
    let app = client::startup::build(&settings, common::http::shutdown_signal()).await?;
    tracing::info!(address = %app.address(), "client listening");
    app.run_until_stopped().await?;
    Ok(())
}
