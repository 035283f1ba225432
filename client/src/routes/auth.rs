//! Sign up, sign in and sign out. The forms post here; the auth API's
//! session cookie is passed back to the browser with the redirect.

use axum::Router;
use axum::extract::{Form, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, see_other};
use crate::api::{Api, Failure, Reply};
use crate::views::{FormErrors, csrf_field, field, page};

const FIELDS: &[&str] = &["email", "password"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", get(sign_up_page).post(sign_up))
        .route("/auth/signin", get(sign_in_page).post(sign_in))
        .route("/auth/signout", get(sign_out_page).post(sign_out))
}

#[derive(Deserialize, Default)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

enum Kind {
    SignUp,
    SignIn,
}

fn form(kind: Kind, email: &str, errors: &FormErrors) -> Markup {
    let (title, action, button) = match kind {
        Kind::SignUp => ("Sign up", "/auth/signup", "Create my account"),
        Kind::SignIn => ("Sign in", "/auth/signin", "Sign in"),
    };
    let content = html! {
        form.stacked.card method="post" action=(action) novalidate {
            (csrf_field())
            (errors.summary())
            (field("email", "Email", "email", email, errors))
            (field("password", "Password", "password", "", errors))
            button.primary type="submit" { (button) }
        }
    };
    page(title, None, content)
}

async fn sign_up_page() -> impl IntoResponse {
    form(Kind::SignUp, "", &FormErrors::none())
}

async fn sign_in_page() -> impl IntoResponse {
    form(Kind::SignIn, "", &FormErrors::none())
}

/// The answer to a sign-up or sign-in: home with the new cookie, or the
/// form again with the API's errors.
fn answer(
    kind: Kind,
    email: &str,
    reply: Result<Reply<common::session::SessionUser>, Failure>,
) -> PageResult {
    match reply {
        Ok(reply) => Ok(see_other("/", reply.set_cookies)),
        Err(Failure::Refused { errors, .. }) => {
            let errors = FormErrors::new(FIELDS, errors);
            Ok((
                axum::http::StatusCode::BAD_REQUEST,
                form(kind, email, &errors),
            )
                .into_response())
        }
        Err(failure) => Err(PageError::from(failure)),
    }
}

#[tracing::instrument(skip_all)]
async fn sign_up(
    State(api): State<Api>,
    browser: Browser,
    Form(body): Form<Credentials>,
) -> PageResult {
    let reply = api
        .credentials(browser.session(), "signup", &body.email, &body.password)
        .await;
    answer(Kind::SignUp, &body.email, reply)
}

#[tracing::instrument(skip_all)]
async fn sign_in(
    State(api): State<Api>,
    browser: Browser,
    Form(body): Form<Credentials>,
) -> PageResult {
    let reply = api
        .credentials(browser.session(), "signin", &body.email, &body.password)
        .await;
    answer(Kind::SignIn, &body.email, reply)
}

async fn sign_out_page(State(api): State<Api>, browser: Browser) -> PageResult {
    let user = api.current_user(browser.session()).await?;
    let content = html! {
        form.card method="post" action="/auth/signout" {
            (csrf_field())
            p { "Sign out of this browser?" }
            button.primary type="submit" { "Sign out" }
        }
    };
    Ok(page("Sign out", user.as_ref(), content).into_response())
}

#[derive(Deserialize, Default)]
struct SignOut {
    #[serde(default)]
    everywhere: bool,
}

/// Ends this session (or, `everywhere`, every session of the user); a
/// session already ended or banned is as good as signed out.
#[tracing::instrument(skip_all)]
async fn sign_out(
    State(api): State<Api>,
    browser: Browser,
    Form(form): Form<SignOut>,
) -> PageResult {
    let reply = api.sign_out(browser.session(), form.everywhere).await?;
    Ok(see_other("/", reply.set_cookies))
}
