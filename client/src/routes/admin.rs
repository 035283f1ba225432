//! The admins' page: find a user by email, ban or unban them. The auth API
//! decides who is an admin; this page only shows what it answers.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::session::{Role, SessionUser};
use maud::{Markup, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, see_other, signed_in};
use crate::api::{Api, Failure, UserRecord};
use crate::views::{csrf_field, page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(find))
        .route("/admin/users/{id}/ban", post(ban))
        .route("/admin/users/{id}/unban", post(unban))
}

#[derive(Deserialize, Default)]
struct Search {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize, Default)]
struct Ban {
    /// Where the admin came from: the page goes back to this search.
    #[serde(default)]
    email: String,
    #[serde(default)]
    reason: String,
}

/// The signed-in admin; anyone else is refused here, before any call.
async fn admin(api: &Api, browser: &Browser) -> Result<SessionUser, PageError> {
    let user = signed_in(api, browser).await?;
    if user.role != Role::Admin {
        return Err(PageError::Forbidden);
    }
    Ok(user)
}

fn users_page(
    user: &SessionUser,
    email: &str,
    found: &[UserRecord],
    problems: &[String],
) -> Markup {
    let content = html! {
        form.search method="get" action="/admin/users" role="search" {
            div.field {
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) required;
            }
            button.primary type="submit" { "Find" }
        }
        @for message in problems { p.alert role="alert" { (message) } }
        @if !email.is_empty() && found.is_empty() && problems.is_empty() {
            p { "Nobody has that email." }
        }
        @if !found.is_empty() {
            div.scroll {
                table {
                    thead { tr { th { "Email" } th { "Role" } th { "Status" } th { span.visually-hidden { "Action" } } } }
                    tbody {
                        @for record in found { (row(email, record)) }
                    }
                }
            }
        }
    };
    page("Users", Some(user), content)
}

fn row(email: &str, record: &UserRecord) -> Markup {
    let role = match record.role {
        Role::Admin => "Admin",
        Role::User => "User",
    };
    html! {
        tr {
            td { (record.email) }
            td { (role) }
            td.status { @if record.banned { "Banned" } @else { "Active" } }
            td {
                @if record.banned {
                    form method="post" action=(format!("/admin/users/{}/unban", record.id)) {
                        (csrf_field())
                        input type="hidden" name="email" value=(email);
                        button type="submit" aria-label=(format!("Unban {}", record.email)) { "Unban" }
                    }
                } @else {
                    form method="post" action=(format!("/admin/users/{}/ban", record.id)) {
                        (csrf_field())
                        input type="hidden" name="email" value=(email);
                        label.visually-hidden for=(format!("reason-{}", record.id)) { "Reason" }
                        input id=(format!("reason-{}", record.id)) type="text" name="reason" placeholder="Reason";
                        button type="submit" aria-label=(format!("Ban {}", record.email)) { "Ban" }
                    }
                }
            }
        }
    }
}

async fn find(
    State(api): State<Api>,
    browser: Browser,
    Query(search): Query<Search>,
) -> PageResult {
    let user = admin(&api, &browser).await?;
    let email = search.email.trim();
    if email.is_empty() {
        return Ok(users_page(&user, "", &[], &[]).into_response());
    }
    match api.users(browser.session(), email).await {
        Ok(found) => Ok(users_page(&user, email, &found, &[]).into_response()),
        Err(failure) => refused(&user, email, failure),
    }
}

/// The search again with the API's reason for refusing, or the error page.
fn refused(user: &SessionUser, email: &str, failure: Failure) -> PageResult {
    match failure {
        Failure::Refused { status, errors } if status == StatusCode::BAD_REQUEST => {
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            Ok((
                StatusCode::BAD_REQUEST,
                users_page(user, email, &[], &messages),
            )
                .into_response())
        }
        failure => Err(PageError::from(failure)),
    }
}

async fn set_banned(api: &Api, browser: &Browser, id: &str, form: &Ban, ban: bool) -> PageResult {
    let id = super::record_id(id)?;
    let user = admin(api, browser).await?;
    let reason = ban.then(|| form.reason.trim());
    match api.ban(browser.session(), &id, reason).await {
        Ok(record) => {
            let back = if form.email.is_empty() {
                &record.email
            } else {
                &form.email
            };
            let query = serde_urlencoded::to_string([("email", back)]).unwrap_or_default();
            Ok(see_other(&format!("/admin/users?{query}"), Vec::new()))
        }
        Err(failure) => refused(&user, &form.email, failure),
    }
}

#[tracing::instrument(skip_all)]
async fn ban(
    State(api): State<Api>,
    browser: Browser,
    Path(id): Path<String>,
    Form(form): Form<Ban>,
) -> PageResult {
    set_banned(&api, &browser, &id, &form, true).await
}

#[tracing::instrument(skip_all)]
async fn unban(
    State(api): State<Api>,
    browser: Browser,
    Path(id): Path<String>,
    Form(form): Form<Ban>,
) -> PageResult {
    set_banned(&api, &browser, &id, &form, false).await
}
