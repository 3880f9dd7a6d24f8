//! Checks on display names and other free text that a person types when
//! creating a signed document: community and member names, a person's
//! name in a credential.
//!
//! The check rejects characters that change how the text displays without
//! being seen: control characters, bidirectional controls (a U+202E
//! RIGHT-TO-LEFT OVERRIDE turns "invoice\u{202e}fdp.exe" into
//! "invoiceexe.pdf" on screen) and invisible format characters. Letters of
//! every script, spaces, punctuation and emoji stay allowed, including the
//! zero width joiner, zero width non-joiner and variation selectors that
//! emoji sequences and some scripts need.
//!
//! It runs only where text is created. Documents signed elsewhere stay
//! readable, because the viewer and the CLI show such characters escaped.

use std::fmt;

/// Reason a display name was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisplayNameError {
    /// The name is empty or only white space.
    Empty,
    /// The name contains a character that is invisible or changes how the
    /// text around it displays.
    Character(char),
}

impl fmt::Display for DisplayNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisplayNameError::Empty => f.write_str("is empty"),
            DisplayNameError::Character(character) => {
                write!(f, "contains U+{:04X} ({})", u32::from(*character), character_kind(*character))
            }
        }
    }
}

impl std::error::Error for DisplayNameError {}

/// Checks a display name: not blank, and without control characters,
/// bidirectional controls or invisible format characters.
///
/// # Errors
/// [`DisplayNameError::Empty`] for a blank name, otherwise
/// [`DisplayNameError::Character`] with the first rejected character.
pub fn check_display_name(name: &str) -> Result<(), DisplayNameError> {
    if name.trim().is_empty() {
        return Err(DisplayNameError::Empty);
    }
    match name.chars().find(|character| is_rejected(*character)) {
        Some(character) => Err(DisplayNameError::Character(character)),
        None => Ok(()),
    }
}

fn is_rejected(character: char) -> bool {
    character.is_control() || is_bidi_control(character) || is_invisible_format(character)
}

/// The Unicode bidirectional formatting characters (UAX #9, table 1).
fn is_bidi_control(character: char) -> bool {
    matches!(character, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Characters that display as nothing and that no name needs: the zero
/// width space, soft hyphen, word joiner and invisible operators, the byte
/// order mark, Hangul fillers, line and paragraph separators, the Mongolian
/// vowel separator, interlinear annotation controls and deprecated format
/// characters. The joiners U+200C and U+200D, variation selectors and tag
/// characters are not listed, because emoji and some scripts use them.
fn is_invisible_format(character: char) -> bool {
    matches!(
        character,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180e}'
            | '\u{200b}'
            | '\u{2028}'..='\u{2029}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206a}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

fn character_kind(character: char) -> &'static str {
    if character.is_control() {
        "a control character"
    } else if is_bidi_control(character) {
        "a bidirectional control"
    } else {
        "an invisible format character"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_script_pass() {
        let names = [
            "Alice Martin",
            "CERT-EU (Brussels)",
            "Zoë O'Brien-Łukasz",
            "Ελληνική Ομάδα",
            "Команда реагирования",
            "فريق الاستجابة",
            "צוות תגובה",
            "मराठी संघ",
            "東京 CSIRT",
            "می‌خواهم",
            "Team 🛡️",
            "👩‍💻 Ops",
        ];
        for name in names {
            assert_eq!(check_display_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn controls_and_invisible_characters_fail() {
        let cases = [
            ("a\u{1b}[31mb", '\u{1b}'),
            ("bell\u{7}", '\u{7}'),
            ("tab\there", '\t'),
            ("line\nbreak", '\n'),
            ("c1\u{85}", '\u{85}'),
            ("invoice\u{202e}fdp.exe", '\u{202e}'),
            ("\u{202a}a", '\u{202a}'),
            ("x\u{2066}y", '\u{2066}'),
            ("x\u{2069}", '\u{2069}'),
            ("mark\u{200e}", '\u{200e}'),
            ("mark\u{200f}", '\u{200f}'),
            ("arabic\u{61c}", '\u{61c}'),
            ("zero\u{200b}width", '\u{200b}'),
            ("soft\u{ad}hyphen", '\u{ad}'),
            ("word\u{2060}joiner", '\u{2060}'),
            ("\u{feff}bom", '\u{feff}'),
            ("hangul\u{3164}", '\u{3164}'),
            ("para\u{2029}", '\u{2029}'),
        ];
        for (name, character) in cases {
            assert_eq!(check_display_name(name), Err(DisplayNameError::Character(character)), "{name:?}");
        }
    }

    #[test]
    fn blank_names_fail() {
        for name in ["", "   "] {
            assert_eq!(check_display_name(name), Err(DisplayNameError::Empty), "{name:?}");
        }
    }

    #[test]
    fn error_names_the_code_point() {
        let error = check_display_name("a\u{202e}b").expect_err("rejected");
        assert_eq!(error.to_string(), "contains U+202E (a bidirectional control)");
        let error = check_display_name("a\u{1b}b").expect_err("rejected");
        assert_eq!(error.to_string(), "contains U+001B (a control character)");
    }
}
