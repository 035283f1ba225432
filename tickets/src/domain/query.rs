//! The listing's query, read from the URL: words to find, a price range,
//! an order, a page size, and the cursor after which the page starts. A
//! cursor names the last ticket's sort key and id, so pages never skip or
//! repeat a ticket while tickets are added.

use std::collections::HashMap;

use common::{ErrorItem, Price};
use mongodb::bson::oid::ObjectId;

/// Words a search may hold at most.
const MAX_WORDS: usize = 10;
const MAX_QUERY_CHARS: usize = 200;

/// The listing's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// The newest listed first (the default).
    Newest,
    /// The cheapest first.
    Price,
    /// The dearest first.
    PriceDesc,
    /// The soonest event first; tickets without a date last.
    StartsAt,
}

impl Sort {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "newest" => Some(Self::Newest),
            "price" => Some(Self::Price),
            "-price" => Some(Self::PriceDesc),
            "startsAt" => Some(Self::StartsAt),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Price => "price",
            Self::PriceDesc => "-price",
            Self::StartsAt => "startsAt",
        }
    }
}

/// Where a page ends: the last ticket's sort key (its price, or its start
/// in milliseconds; none for the newest-first order) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub key: i64,
    pub id: ObjectId,
}

impl Position {
    /// The cursor's text, before it is encoded.
    pub fn text(self, sort: Sort) -> String {
        format!("{}:{}:{}", sort.name(), self.key, self.id.to_hex())
    }

    fn read(text: &str, sort: Sort) -> Result<Self, &'static str> {
        let mut parts = text.splitn(3, ':');
        let (Some(name), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("after is not a cursor of this listing");
        };
        if name != sort.name() {
            return Err("after belongs to another order of the listing");
        }
        match (key.parse(), ObjectId::parse_str(id)) {
            (Ok(key), Ok(id)) => Ok(Self { key, id }),
            _ => Err("after is not a cursor of this listing"),
        }
    }
}

/// One page of the listing, as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    pub words: Vec<String>,
    /// In cents.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: Sort,
    pub limit: i64,
    pub after: Option<Position>,
}

impl Catalogue {
    /// Reads the query parameters; a 400's items name each bad one.
    pub fn parse(params: &HashMap<String, String>) -> Result<Self, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let get = |name: &str| params.get(name).map(String::as_str);
        let limit = common::paging::limit(get("limit"))
            .map_err(|e| errors.push(e))
            .unwrap_or(20);
        let sort = match get("sort") {
            None => Sort::Newest,
            Some(raw) => Sort::parse(raw).unwrap_or_else(|| {
                errors.push(ErrorItem::field(
                    "sort",
                    "sort must be newest, price, -price or startsAt",
                ));
                Sort::Newest
            }),
        };
        let words = match get("q") {
            Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
                errors.push(ErrorItem::field("q", "q must be at most 200 characters"));
                Vec::new()
            }
            Some(q) => {
                let mut words = super::listing::words(q);
                words.sort();
                words.dedup();
                if words.len() > MAX_WORDS {
                    errors.push(ErrorItem::field("q", "q may hold at most 10 words"));
                }
                words
            }
            None => Vec::new(),
        };
        let mut bound = |name: &'static str| match get(name) {
            None => None,
            Some(raw) => match price_bound(raw) {
                Ok(cents) => Some(cents),
                Err(()) => {
                    let message = format!("{name} must be an amount such as 12.50");
                    errors.push(ErrorItem::field(name, message));
                    None
                }
            },
        };
        let (min_price, max_price) = (bound("minPrice"), bound("maxPrice"));
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            errors.push(ErrorItem::field(
                "maxPrice",
                "maxPrice must not be below minPrice",
            ));
        }
        let after = match get("after") {
            None => None,
            Some(cursor) => {
                let position = common::paging::decode_cursor(cursor)
                    .ok_or("after is not a cursor of this listing")
                    .and_then(|text| Position::read(&text, sort));
                match position {
                    Ok(position) => Some(position),
                    Err(message) => {
                        errors.push(ErrorItem::field("after", message));
                        None
                    }
                }
            }
        };
        if errors.is_empty() {
            Ok(Self {
                words,
                min_price,
                max_price,
                sort,
                limit,
                after,
            })
        } else {
            Err(errors)
        }
    }
}

/// A price bound in cents: 0, or a price.
fn price_bound(raw: &str) -> Result<i64, ()> {
    if raw.trim().chars().all(|c| c == '0' || c == '.') && raw.trim().starts_with('0') {
        return Ok(0);
    }
    Price::parse_text(raw).map(Price::cents).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<Catalogue, Vec<ErrorItem>> {
        let params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Catalogue::parse(&params)
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<String> {
        query(pairs)
            .unwrap_err()
            .into_iter()
            .filter_map(|e| e.field)
            .collect()
    }

    #[test]
    fn given_no_parameters_then_it_is_the_first_twenty_newest() {
        let catalogue = query(&[]).unwrap();
        assert_eq!(
            (catalogue.sort, catalogue.limit, catalogue.after),
            (Sort::Newest, 20, None)
        );
        assert!(catalogue.words.is_empty());
    }

    #[test]
    fn given_every_parameter_then_each_is_read() {
        let cursor = common::paging::encode_cursor("price:1250:507f1f77bcf86cd799439011");
        let catalogue = query(&[
            ("q", "Blue  MOON blue"),
            ("minPrice", "10"),
            ("maxPrice", "99.99"),
            ("sort", "price"),
            ("limit", "50"),
            ("after", &cursor),
        ])
        .unwrap();
        assert_eq!(catalogue.words, ["blue", "moon"]);
        assert_eq!(
            (catalogue.min_price, catalogue.max_price),
            (Some(1000), Some(9999))
        );
        assert_eq!(catalogue.after.unwrap().key, 1250);
    }

    #[test]
    fn given_bad_parameters_then_each_is_named() {
        assert_eq!(fields(&[("limit", "0")]), ["limit"]);
        assert_eq!(fields(&[("sort", "cheapest")]), ["sort"]);
        assert_eq!(fields(&[("minPrice", "-1")]), ["minPrice"]);
        assert_eq!(fields(&[("maxPrice", "1.001")]), ["maxPrice"]);
        assert_eq!(
            fields(&[("minPrice", "20"), ("maxPrice", "10")]),
            ["maxPrice"]
        );
        assert_eq!(fields(&[("after", "garbage!")]), ["after"]);
        let eleven: Vec<String> = (0..11).map(|n| format!("w{n}")).collect();
        assert_eq!(fields(&[("q", &eleven.join(" "))]), ["q"]);
        assert_eq!(fields(&[("limit", "x"), ("sort", "y")]), ["limit", "sort"]);
    }

    #[test]
    fn given_a_cursor_of_another_order_then_it_is_refused() {
        let cursor = common::paging::encode_cursor("newest:0:507f1f77bcf86cd799439011");
        let errors = query(&[("sort", "price"), ("after", &cursor)]).unwrap_err();
        assert_eq!(
            errors[0].message,
            "after belongs to another order of the listing"
        );
    }

    #[test]
    fn a_minimum_of_nothing_is_allowed() {
        assert_eq!(query(&[("minPrice", "0")]).unwrap().min_price, Some(0));
    }

    #[test]
    fn a_position_reads_back_as_written() {
        let position = Position {
            key: -5,
            id: ObjectId::new(),
        };
        assert_eq!(
            Position::read(&position.text(Sort::PriceDesc), Sort::PriceDesc),
            Ok(position)
        );
    }
}
