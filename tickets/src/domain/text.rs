//! What a listing's words may hold: at least one visible character, and no
//! control characters, so that a title of only a zero-width space, or with
//! a NUL, never makes a link without readable text.

/// Characters that print as nothing, though they are not whitespace or
/// control characters: zero-width spaces and joiners, direction marks,
/// invisible operators, variation selectors, fillers, tag characters.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E007F}')
}

/// Checks `text` (trimmed by the caller): `allow_breaks` lets line breaks
/// through (a description's paragraphs).
pub fn check(text: &str, name: &str, max: usize, allow_breaks: bool) -> Result<(), String> {
    if text.chars().count() > max {
        return Err(format!("{name} must be at most {max} characters"));
    }
    let control = |c: char| c.is_control() && !(allow_breaks && matches!(c, '\n' | '\r' | '\t'));
    if text.chars().any(control) {
        return Err(format!("{name} must not contain control characters"));
    }
    if !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Err(format!("{name} must contain a visible character"));
    }
    Ok(())
}

/// An optional field of a listing: absent, or empty once trimmed, is none.
pub fn optional(
    raw: Option<&str>,
    name: &str,
    max: usize,
    allow_breaks: bool,
) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => check(text, name, max, allow_breaks).map(|()| Some(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_with_a_visible_character_pass() {
        assert_eq!(check("Concert", "Title", 200, false), Ok(()));
        assert_eq!(check("Café \u{200B}Nord", "Title", 200, false), Ok(()));
    }

    #[test]
    fn only_invisible_characters_are_refused() {
        for text in ["\u{200B}", "\u{200B}\u{FEFF}", "\u{3164}", " \u{2060} "] {
            assert_eq!(
                check(text, "Title", 200, false),
                Err("Title must contain a visible character".into()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused_but_a_description_may_break_lines() {
        assert_eq!(
            check("A\0B", "Title", 200, false),
            Err("Title must not contain control characters".into())
        );
        assert!(check("one\ntwo", "Venue", 200, false).is_err());
        assert_eq!(check("one\ntwo", "Description", 2000, true), Ok(()));
        assert!(check("bell\u{7}", "Description", 2000, true).is_err());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(check(&"é".repeat(200), "Venue", 200, false), Ok(()));
        assert_eq!(
            check(&"a".repeat(201), "Venue", 200, false),
            Err("Venue must be at most 200 characters".into())
        );
    }

    #[test]
    fn an_absent_or_blank_optional_field_is_none() {
        assert_eq!(optional(None, "Venue", 200, false), Ok(None));
        assert_eq!(optional(Some("   "), "Venue", 200, false), Ok(None));
        assert_eq!(
            optional(Some(" Hall "), "Venue", 200, false),
            Ok(Some("Hall".into()))
        );
    }
}
