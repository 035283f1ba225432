//! Pages of a list (RFC 8288): `limit` items from after an opaque cursor,
//! the body a bare array, and a `Link: <...>; rel="next"` header carrying
//! the same query and the next cursor when there is more. A cursor names
//! the last item's sort key, so that items added meanwhile never make a
//! page skip or repeat one.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::error::ErrorItem;

/// Items a page holds unless the client asks for fewer or more.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most a page holds.
pub const MAX_LIMIT: i64 = 100;

/// `limit` as a client sent it: 1 to 100, 20 when absent.
pub fn limit(raw: Option<&str>) -> Result<i64, ErrorItem> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.trim().parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        _ => Err(ErrorItem::field(
            "limit",
            "limit must be a whole number from 1 to 100",
        )),
    }
}

/// `limit` and `after` of a list paged by record id, newest first.
pub fn by_id(
    params: &std::collections::HashMap<String, String>,
) -> Result<(i64, Option<mongodb::bson::oid::ObjectId>), Vec<ErrorItem>> {
    let limit = limit(params.get("limit").map(String::as_str));
    let after = match params.get("after") {
        None => Ok(None),
        Some(cursor) => decode_cursor(cursor)
            .and_then(|id| crate::mongo::parse_id(&id))
            .map(Some)
            .ok_or_else(|| ErrorItem::field("after", "after is not a cursor of this list")),
    };
    match (limit, after) {
        (Ok(limit), Ok(after)) => Ok((limit, after)),
        (limit, after) => Err(limit.err().into_iter().chain(after.err()).collect()),
    }
}

/// A cursor as clients see it: the position's text, encoded.
pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The position a cursor names; `None` for anything we did not issue.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// The query of every paged list, as the OpenAPI document shows it (the
/// handlers read the raw query so that their errors name the parameter).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// How many items a page holds (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// The cursor of the next page, from the previous answer's `Link` header.
    after: Option<String>,
}

/// The `Link` header of a paged answer, for the OpenAPI document.
pub const LINK_HEADER: &str = "`<...>; rel=\"next\"` (RFC 8288) when there is a next page";

/// A page of items and, when there are more, the cursor after the last.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// From `limit + 1` items read: the extra one only says there is more,
    /// and `position` gives the cursor of the last one kept.
    pub fn from_read(mut items: Vec<T>, limit: i64, position: impl Fn(&T) -> String) -> Self {
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next = more
            .then(|| items.last().map(|last| encode_cursor(&position(last))))
            .flatten();
        Self { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// A page as an answer: the bare array, and the `Link` to the next page
/// at `path` with the client's `query` (its own `after` replaced).
pub struct Paged<T> {
    pub page: Page<T>,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let link = self.page.next.as_deref().and_then(|cursor| {
            let mut query: Vec<(String, String)> = self
                .query
                .into_iter()
                .filter(|(name, _)| name != "after")
                .collect();
            query.push(("after".into(), cursor.to_string()));
            let query = serde_urlencoded::to_string(&query).ok()?;
            HeaderValue::from_str(&format!("<{}?{query}>; rel=\"next\"", self.path)).ok()
        });
        let mut response = axum::Json(self.page.items).into_response();
        if let Some(link) = link {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_limit_is_twenty_and_a_bad_one_names_the_parameter() {
        assert_eq!(limit(None), Ok(20));
        assert_eq!(limit(Some("100")), Ok(100));
        for bad in ["0", "101", "-1", "ten", "2.5", ""] {
            assert_eq!(
                limit(Some(bad)).unwrap_err().field.as_deref(),
                Some("limit"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_cursor_reads_back_as_the_position_it_was_made_from() {
        let cursor = encode_cursor("p:1250:507f1f77bcf86cd799439011");
        assert_eq!(
            decode_cursor(&cursor).as_deref(),
            Some("p:1250:507f1f77bcf86cd799439011")
        );
        assert_eq!(decode_cursor("not a cursor!"), None);
    }

    #[test]
    fn a_page_read_with_one_more_item_has_a_next_cursor_at_its_last_item() {
        let page = Page::from_read(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, [1, 2]);
        assert_eq!(
            page.next.as_deref().and_then(decode_cursor).as_deref(),
            Some("2")
        );
        let last = Page::from_read(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(last.next, None);
    }

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_the_cursor() {
        let page = Page {
            items: vec![1],
            next: Some("abc".into()),
        };
        let query = vec![
            ("q".into(), "blue moon".into()),
            ("after".into(), "old".into()),
        ];
        let response = Paged {
            page,
            path: "/api/tickets".into(),
            query,
        }
        .into_response();
        assert_eq!(
            response.headers()[header::LINK],
            "</api/tickets?q=blue+moon&after=abc>; rel=\"next\""
        );
    }
}
