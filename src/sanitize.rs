//! Text that reaches a terminal or a reader's eyes: every character that could repaint the
//! screen, reorder what is shown, or hide itself is escaped, so a hostile profile name, reason
//! or upstream message cannot disguise itself.
//!
//! A leaf module: it depends on nothing of broker's and never drops a character silently.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls and DEL, the bidi
/// overrides and isolates, zero-width characters, and the line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'                  // ARABIC LETTER MARK
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}'   // line/paragraph separators, bidi embeddings/overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'   // bidi isolates
            | '\u{FEFF}'                // zero-width no-break space (BOM)
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

/// A JSON text with every unsafe character outside ASCII written as a `\uXXXX` escape, which
/// JSON readers decode to the same value (serde_json escapes only the C0 controls itself).
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| !c.is_ascii() && is_unsafe(c)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if !c.is_ascii() && is_unsafe(c) {
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

/// Whether `text` says nothing visible: only whitespace, controls and invisible characters.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || is_unsafe(c) || c == '\u{00AD}')
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
    fn blank_means_nothing_visible() {
        assert!(is_blank(" \t\u{200B}\u{202E}\u{FEFF}\u{AD}"));
        assert!(!is_blank(" INC-1 "));
    }
}
