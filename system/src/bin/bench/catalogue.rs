//! The catalogue's pages as shoppers load them through the proxy: the
//! first page, the 50th reached by cursor, and a two-word search, at two
//! sizes of the catalogue. The tickets are written straight into the
//! tickets service's database, as it would store them: the figures are
//! about reading pages, not about listing tickets.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use mongodb::bson::{Document, doc, oid::ObjectId};
use system::{Platform, Profile};

use crate::stats::{Spread, ms};

/// Catalogue sizes compared.
pub const SIZES: [usize; 2] = [1_000, 100_000];
/// Tickets a two-word search finds.
const MATCHES: usize = 20;
/// Times each page is loaded.
const SAMPLES: usize = 100;
/// The page reached by cursor.
const DEEP_PAGE: usize = 50;
/// The target: a page's p99 at the larger size within this many times its p99 at the smaller.
pub const GROWTH_LIMIT: f64 = 1.5;
pub const FIRST_PAGE_LIMIT: Duration = Duration::from_millis(20);

/// One size's figures.
pub struct Catalogue {
    pub size: usize,
    pub first: Spread,
    pub deep: Spread,
    pub search: Spread,
}

/// Measures each size on a platform of its own.
pub async fn measure() -> anyhow::Result<Vec<Catalogue>> {
    let mut figures = Vec::new();
    for size in SIZES {
        eprintln!("catalogue: {size} tickets for sale");
        let platform = Platform::launch(Duration::from_secs(900), Profile::Release).await;
        seed(&platform, size).await?;
        figures.push(pages(&platform, size).await?);
    }
    Ok(figures)
}

/// Writes `size` tickets for sale, `MATCHES` of them found by "blue moon".
async fn seed(platform: &Platform, size: usize) -> anyhow::Result<()> {
    let mongo = mongodb::Client::with_uri_str(platform.mongo_uri()).await?;
    let tickets = mongo.database("tickets").collection::<Document>("tickets");
    let seller = ObjectId::new().to_hex();
    let venues = ["Old Hall", "Arena", "Club", "Park", "Theatre"];
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..size {
        let (title, words) = if i % (size / MATCHES) == 0 {
            (
                format!("Blue Moon night {i}"),
                vec!["blue", "moon", "night"],
            )
        } else {
            (format!("Concert {i}"), vec!["concert"])
        };
        let venue = venues[i % venues.len()];
        let mut words: Vec<String> = words.into_iter().map(str::to_string).collect();
        words.extend(venue.to_lowercase().split(' ').map(str::to_string));
        words.push(i.to_string());
        batch.push(doc! {
            "_id": ObjectId::new(), "title": title, "price": 1000 + (i % 5000) as i64,
            "userId": &seller, "version": 0_i64, "status": "available", "holder": null,
            "venue": venue, "withdrawn": false, "startsKey": i64::MAX, "words": words,
        });
        if batch.len() == 10_000 {
            tickets.insert_many(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        tickets.insert_many(batch).await?;
    }
    Ok(())
}

async fn pages(platform: &Platform, size: usize) -> anyhow::Result<Catalogue> {
    let http = reqwest::Client::new();
    let base = format!("{}/api/tickets", platform.url);
    // The 50th page's cursor, by walking the 49 before it.
    let mut deep = base.clone();
    for _ in 1..DEEP_PAGE {
        let response = http.get(&deep).send().await?;
        let link = response
            .headers()
            .get("link")
            .context("a page without a next page")?;
        let next = link.to_str()?.split(';').next().unwrap_or_default().trim();
        deep = format!(
            "{}{}",
            platform.url,
            next.trim_start_matches('<').trim_end_matches('>')
        );
    }
    let search = format!("{base}?q=blue%20moon");
    let found: Vec<serde_json::Value> = http.get(&search).send().await?.json().await?;
    ensure!(
        found.len() == MATCHES,
        "the search found {} of {MATCHES}",
        found.len()
    );
    Ok(Catalogue {
        size,
        first: timed(&http, &base).await?,
        deep: timed(&http, &deep).await?,
        search: timed(&http, &search).await?,
    })
}

/// Loads `url` one request after another.
async fn timed(http: &reqwest::Client, url: &str) -> anyhow::Result<Spread> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let response = http.get(url).send().await?;
        ensure!(
            response.status().is_success(),
            "{url} answered {}",
            response.status()
        );
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    Ok(Spread::new(samples))
}

/// The report's rows for the catalogue.
pub fn rows(figures: &[Catalogue]) -> String {
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let mut out = String::new();
    for f in figures {
        for (page, spread) in [
            ("first page", &f.first),
            ("50th page by cursor", &f.deep),
            ("two-word search, 20 found", &f.search),
        ] {
            out += &format!(
                "| catalogue of {} tickets: {page} through nginx | p50 {}, p99 {} | | |\n",
                f.size,
                ms(spread.percentile(50.0)),
                ms(spread.percentile(99.0))
            );
        }
    }
    if let [small, large] = figures {
        for (page, a, b) in [
            ("first page", &small.first, &large.first),
            ("50th page", &small.deep, &large.deep),
            ("search", &small.search, &large.search),
        ] {
            let growth =
                b.percentile(99.0).as_secs_f64() / a.percentile(99.0).as_secs_f64().max(1e-9);
            out += &format!(
                "| {page}: p99 at {} tickets against {} | {growth:.1} × | ≤ {GROWTH_LIMIT} × | {} |\n",
                large.size,
                small.size,
                verdict(growth <= GROWTH_LIMIT)
            );
        }
        let first = large.first.percentile(99.0);
        out += &format!(
            "| first page p99 at {} tickets | {} | < {} | {} |\n",
            large.size,
            ms(first),
            ms(FIRST_PAGE_LIMIT),
            verdict(first < FIRST_PAGE_LIMIT)
        );
    }
    out
}
