//! Debian's Chromium, headless, driven through chromedriver: typed helpers
//! for what the journeys do, each waiting with a deadline, and screenshots.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use system::{free_port, workspace_root};

/// How long a step may wait for the page to show what it expects.
const DEADLINE: Duration = Duration::from_secs(20);
const WIDTHS: [u32; 2] = [1280, 390];
const HEIGHT: u32 = 1000;

pub struct Browser {
    client: Client,
    driver: Child,
    base: String,
    shots: PathBuf,
}

impl Browser {
    pub async fn open(base: &str) -> Self {
        // Both of rustls's providers are linked into the workspace: pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Chromium goes down with it.
            .process_group(0)
            .spawn()
            .expect("chromedriver is installed (make test installs chromium-driver)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={},{HEIGHT}", WIDTHS[0])],
            }),
        );
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let client = loop {
            let connected = ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match connected {
                Ok(client) => break client,
                Err(err) if tokio::time::Instant::now() > deadline => panic!("chromedriver: {err}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let shots = workspace_root().join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Self {
            client,
            driver,
            base: base.to_string(),
            shots,
        }
    }

    pub async fn visit(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("page loads");
    }

    /// Opens a page of another site.
    pub async fn visit_elsewhere(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let input = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"));
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .click()
            .await
            .unwrap();
    }

    /// Sets an input's value as a script would: for inputs whose typing
    /// depends on the browser's locale (dates).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap_or_else(|err| panic!("cannot set {css}: {err}"));
    }

    /// Chooses an option of a select by its value.
    pub async fn select(&self, css: &str, value: &str) {
        self.set_value(css, value).await;
    }

    /// Clicks the button that reads `text`, once one does.
    pub async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space(text())='{text}']");
        let button = self
            .client
            .wait()
            .at_most(DEADLINE)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no button {text:?}"));
        button.click().await.unwrap();
    }

    pub async fn click_link(&self, text: &str) {
        self.client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|_| panic!("no link {text:?}"))
            .click()
            .await
            .unwrap();
    }

    /// The text of the first element matching `css`, if there is one.
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    /// Waits until the element `css` shows `expected`.
    pub async fn sees(&self, css: &str, expected: &str) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let text = self.text(css).await;
            if text.as_deref().is_some_and(|t| t.contains(expected)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} shows {text:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reloads the page until `css` shows `expected`, for up to `patience`.
    pub async fn reloads_until(&self, css: &str, expected: &str, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            if self.text(css).await.is_some_and(|t| t.contains(expected)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never showed {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.client.refresh().await.unwrap();
        }
    }

    pub async fn page_source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Saves the page at every width as `screenshots/<name>-<width>.png`.
    pub async fn shoot(&self, name: &str) {
        for width in WIDTHS {
            self.client.set_window_size(width, HEIGHT).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(self.shots.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client
            .set_window_size(WIDTHS[0], HEIGHT)
            .await
            .unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.driver.wait();
    }
}
