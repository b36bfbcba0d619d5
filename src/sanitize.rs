//! Text that reaches a terminal or a reader's eyes: every character that could repaint the
//! screen, reorder what is shown, or hide itself is escaped, so a hostile profile name, reason
//! or upstream message cannot disguise itself.
//!
//! A leaf module: it depends on nothing of broker's and never drops a character silently.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself: controls (C0, C1, DEL), format characters
/// (bidi embeddings, overrides and isolates, zero-width characters, the soft hyphen, tag
/// characters), the line and paragraph separators, and every other character Unicode says to
/// draw as nothing (default-ignorable: variation selectors, the Hangul fillers, the combining
/// grapheme joiner).
pub fn is_unsafe(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    matches!(
        get_general_category(c),
        G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
    ) || is_default_ignorable(c)
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1), the
/// unassigned ones included, as a renderer draws them: not at all.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `text` with every unsafe character written as a Rust-style escape (`\u{202e}`, `\n`).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON text with every unsafe character that serde_json leaves as it is (all but the C0
/// controls: DEL and everything outside ASCII) written as a `\uXXXX` escape, which JSON readers
/// decode to the same value.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    let left = |c: char| (!c.is_ascii() || c == '\x7f') && is_unsafe(c);
    if !json.chars().any(left) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if left(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The fewest visible letters or digits a reason must have.
pub const REASON_MIN_VISIBLE: usize = 3;

/// Whether `text` can stand as a reason: at least [`REASON_MIN_VISIBLE`] letters or digits
/// that are drawn, once blanks and the characters [`is_unsafe`] escapes are set aside. A
/// reason of Hangul fillers, braille blanks or tag characters says nothing.
pub fn is_reason(text: &str) -> bool {
    text.chars()
        .filter(|c| c.is_alphanumeric() && !c.is_whitespace() && !is_unsafe(*c))
        .nth(REASON_MIN_VISIBLE - 1)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_invisible_characters() {
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\u{85}y"), "x\\u{85}y");
        assert_eq!(escape("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("a\u{200B}b\u{2066}c"), "a\\u{200b}b\\u{2066}c");
        assert_eq!(escape("l\u{2028}p\u{2029}"), "l\\u{2028}p\\u{2029}");
        assert_eq!(escape("tab\there"), "tab\\there");
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_tricks() {
        let value = "INC\u{85}-1 \u{202E}gnp";
        let json = serde_json::to_string(value).unwrap();
        let escaped = escape_json(&json);
        assert!(escaped.is_ascii(), "{escaped}");
        assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), value);
    }

    #[test]
    fn default_ignorable_and_format_characters_are_escaped() {
        for c in [
            '\u{3164}',
            '\u{115F}',
            '\u{FE0F}',
            '\u{034F}',
            '\u{E0020}',
            '\u{E0041}',
            '\u{AD}',
            '\u{180E}',
            '\u{FFA0}',
        ] {
            assert!(is_unsafe(c), "{:?}", c);
            assert!(escape(&c.to_string()).starts_with("\\u{"), "{:?}", c);
        }
        assert!(
            !is_unsafe('\u{2800}'),
            "a braille blank is a symbol: shown, but no letter"
        );
        assert!(!is_unsafe('é') && !is_unsafe('漢'));
        let json = serde_json::to_string("a\u{E0041}b").unwrap();
        assert_eq!(escape_json(&json), "\"a\\udb40\\udc41b\"");
    }

    #[test]
    fn a_reason_has_three_visible_letters_or_digits() {
        assert!(is_reason(" INC-1 "));
        assert!(is_reason("ab\u{200B}c"));
        assert!(is_reason("漢字語"));
        for not in [
            "",
            " \t\u{200B}\u{202E}\u{FEFF}\u{AD}",
            "ab",
            "a b",
            "\u{3164}\u{3164}\u{3164}\u{3164}",
            "\u{115F}\u{115F}\u{115F}",
            "\u{2800}\u{2800}\u{2800}\u{2800}",
            "\u{E0049}\u{E004E}\u{E0043}\u{E0031}",
            "\u{FE0F}\u{034F}\u{FE0F}\u{034F}",
            "!!! --- ...",
            "x\u{E0041}\u{E0042}",
        ] {
            assert!(!is_reason(not), "{not:?}");
        }
    }
}
