//! What a seller writes about a ticket: title, price, and the optional
//! description, venue, start and code, each validated at the edge. The
//! words a search finds a ticket by come from its title and venue.

use chrono::{DateTime, Utc};
use common::{ErrorItem, Price};

use super::Title;
use super::text;

const DESCRIPTION_CHARS: usize = 2_000;
const VENUE_CHARS: usize = 200;
const CODE_CHARS: usize = 500;

/// A listing as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub title: Title,
    pub price: Price,
    pub description: Option<String>,
    pub venue: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    /// What the buyer needs at the door: the barcode's text, a transfer link.
    pub code: Option<String>,
}

/// A listing as a client sent it; `price` is the number's text as written.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    pub title: &'a str,
    pub price: Option<&'a str>,
    pub description: Option<&'a str>,
    pub venue: Option<&'a str>,
    pub starts_at: Option<&'a str>,
    pub code: Option<&'a str>,
}

impl Listing {
    /// The listing, or a 400's items naming every bad field.
    pub fn parse(draft: Draft<'_>, now: DateTime<Utc>) -> Result<Self, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push(ErrorItem::field(field, message));
            }
        };
        let title = Title::parse(draft.title);
        check("title", title.as_ref().map(|_| ()).map_err(Clone::clone));
        let price = match draft.price {
            Some(text) => Price::parse_text(text).map_err(str::to_string),
            None => Err("Price is required".to_string()),
        };
        check("price", price.as_ref().map(|_| ()).map_err(Clone::clone));
        let description = text::optional(draft.description, "Description", DESCRIPTION_CHARS, true);
        check(
            "description",
            description.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        let venue = text::optional(draft.venue, "Venue", VENUE_CHARS, false);
        check("venue", venue.as_ref().map(|_| ()).map_err(Clone::clone));
        let code = text::optional(draft.code, "Code", CODE_CHARS, false);
        check("code", code.as_ref().map(|_| ()).map_err(Clone::clone));
        let starts_at = starts_at(draft.starts_at, now);
        check(
            "startsAt",
            starts_at.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        match (title, price, description, venue, code, starts_at) {
            (Ok(title), Ok(price), Ok(description), Ok(venue), Ok(code), Ok(starts_at))
                if errors.is_empty() =>
            {
                Ok(Self {
                    title,
                    price,
                    description,
                    venue,
                    starts_at,
                    code,
                })
            }
            _ => Err(errors),
        }
    }

    /// The words a search finds this listing by.
    pub fn words(&self) -> Vec<String> {
        let mut found = words(self.title.as_str());
        found.extend(self.venue.as_deref().map(words).unwrap_or_default());
        found.sort();
        found.dedup();
        found
    }
}

/// An RFC 3339 instant in the future, if one was given.
fn starts_at(raw: Option<&str>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| "startsAt must be a date and time such as 2027-05-01T20:00:00Z".to_string())?
        .with_timezone(&Utc);
    if at <= now {
        return Err("The event must start in the future".into());
    }
    Ok(Some(at))
}

/// The lower-cased words of `text`: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn draft() -> Draft<'static> {
        Draft {
            title: "Blue Moon Tour",
            price: Some("25.50"),
            description: Some("Doors at seven.\nNo re-entry."),
            venue: Some("The Old Hall, Leeds"),
            starts_at: Some("2027-05-01T20:00:00+01:00"),
            code: Some("https://transfer.example/abc"),
        }
    }

    #[test]
    fn given_every_field_then_the_listing_holds_them_validated() {
        let listing = Listing::parse(draft(), now()).unwrap();
        assert_eq!(listing.price.cents(), 2550);
        assert_eq!(
            listing.starts_at.unwrap().to_rfc3339(),
            "2027-05-01T19:00:00+00:00"
        );
        assert_eq!(listing.venue.as_deref(), Some("The Old Hall, Leeds"));
    }

    #[test]
    fn given_only_title_and_price_then_the_rest_is_none() {
        let draft = Draft {
            description: None,
            venue: Some("  "),
            starts_at: None,
            code: None,
            ..draft()
        };
        let listing = Listing::parse(draft, now()).unwrap();
        assert_eq!(
            (listing.venue, listing.starts_at, listing.code),
            (None, None, None)
        );
    }

    #[test]
    fn given_bad_fields_then_each_is_named() {
        let long = "x".repeat(2001);
        let draft = Draft {
            title: "\u{200B}",
            price: Some("12.5000000001"),
            description: Some(&long),
            venue: Some("Hall\0"),
            starts_at: Some("2020-01-01T00:00:00Z"),
            code: Some(" "),
        };
        let errors = Listing::parse(draft, now()).unwrap_err();
        let fields: Vec<_> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            ["title", "price", "description", "venue", "startsAt"]
        );
    }

    #[test]
    fn given_a_start_that_is_not_a_date_then_it_says_what_is_expected() {
        let draft = Draft {
            starts_at: Some("next friday"),
            ..draft()
        };
        let errors = Listing::parse(draft, now()).unwrap_err();
        assert!(
            errors[0].message.contains("2027-05-01T20:00:00Z"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_listing_is_found_by_the_lower_cased_words_of_its_title_and_venue() {
        let listing = Listing::parse(draft(), now()).unwrap();
        assert_eq!(
            listing.words(),
            ["blue", "hall", "leeds", "moon", "old", "the", "tour"]
        );
    }
}
