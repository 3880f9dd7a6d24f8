//! Terminal output that the text it shows cannot reorder or restyle.
//!
//! Names in trust lists, credentials, packages and access events are chosen
//! by other people. A bidirectional control character (U+202E RIGHT-TO-LEFT
//! OVERRIDE, say) in one of them reorders what the operator reads on the
//! rest of the line, so `report<U+202E>fdp.exe` shows as `reportexe.pdf`.
//! An ESC or C1 control starts a terminal escape sequence, and a line feed
//! or carriage return in a file name could start a line that looks like the
//! CLI's own (`signer: verified`). Every line the CLI prints goes through
//! [`escape`], which replaces all these characters, tabs and line feeds
//! included, by a visible escape such as `\u{202e}` or `\u{a}`. So one
//! printed line is one line on the terminal. JSON output goes through
//! [`escape_json`], which writes the same characters as JSON escapes, so
//! the document still parses to the original text.

use std::borrow::Cow;

/// Returns whether `character` must not reach a terminal as it is: the
/// Unicode bidirectional formatting characters (embeddings, overrides,
/// isolates and marks, Unicode Standard Annex #9), the other default
/// ignorable code points, the C0 controls (line feed, carriage return and
/// tab included), DEL and the C1 controls.
fn is_unsafe(character: char) -> bool {
    matches!(
        character,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{7f}'..='\u{9f}'
    ) || character.is_ascii_control()
        || is_default_ignorable(character)
}

/// Returns whether `character` has the Unicode property
/// Default_Ignorable_Code_Point (DerivedCoreProperties.txt of the Unicode
/// Character Database): characters such as U+200B ZERO WIDTH SPACE and
/// U+FEFF that a terminal draws as nothing, so `alice\u{200b}` reads as
/// `alice`. Escaping them also shows the joiners and variation selectors
/// inside emoji sequences.
///
/// NOTE: the ranges are a hand-made copy of the property (it has not
/// changed since Unicode 14); a later Unicode version may add code points.
fn is_default_ignorable(character: char) -> bool {
    matches!(
        character,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// Replaces each character of `text` for which `unsafe_character` returns true by
/// `write_escape`'s output.
fn replace_unsafe(text: &str, unsafe_character: impl Fn(char) -> bool, write_escape: impl Fn(&mut String, char)) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_character) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        if unsafe_character(character) {
            write_escape(&mut escaped, character);
        } else {
            escaped.push(character);
        }
    }
    Cow::Owned(escaped)
}

/// Returns `text` with bidirectional controls, invisible characters and
/// every control character (line feed, carriage return and tab included)
/// replaced by Rust-style escapes (`\u{202e}`, `\u{a}`).
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    replace_unsafe(text, is_unsafe, write_rust_escape)
}

/// Returns `text` escaped as by [`escape`], except that line feeds and
/// tabs stay: for a report of several lines that the CLI lays out itself,
/// whose fields from other people were escaped with [`escape`] first.
pub(crate) fn escape_multiline(text: &str) -> Cow<'_, str> {
    replace_unsafe(text, is_unsafe_in_lines, write_rust_escape)
}

/// Returns whether `character` is unsafe as by [`is_unsafe`], but keeps line
/// feeds and tabs, which lay out text of several lines.
fn is_unsafe_in_lines(character: char) -> bool {
    is_unsafe(character) && character != '\n' && character != '\t'
}

fn write_rust_escape(escaped: &mut String, character: char) {
    escaped.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
}

/// Returns a serialized JSON document with the characters that
/// [`escape_multiline`] escapes written as JSON escapes (`\u202e`). Outside strings a JSON
/// document contains only ASCII structure and whitespace, and serde_json
/// already escapes the C0 controls inside strings, so the characters
/// replaced here are all inside strings and the result decodes to the same
/// value.
pub(crate) fn escape_json(json: &str) -> Cow<'_, str> {
    replace_unsafe(json, is_unsafe_in_lines, |escaped, character| escaped.push_str(&format!("\\u{:04x}", u32::from(character))))
}

/// Writes `text` to stdout as it is, or to stderr once
/// [`reserve_stdout_for_output`] was called.
///
/// A closed pipe (`valise inspect PKG | head -1`) ends the process quietly
/// with status 0, as other command-line tools do: the reader stopped
/// reading. `println!` would panic there. Any other write error ends it with
/// status 2 and a message. Output files are written through temporary files
/// that are renamed only when complete, so exiting here leaves none
/// half-written.
pub(crate) fn write_stdout(text: &str) {
    use std::io::Write;

    if STDOUT_CARRIES_OUTPUT.load(std::sync::atomic::Ordering::Relaxed) {
        eprint!("{text}");
        return;
    }
    if let Err(error) = std::io::stdout().lock().write_all(text.as_bytes()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}

/// Prints a line to stdout through [`escape`].
/// Set once a command writes its output file to standard output (`-o -`):
/// the messages `outln!` and `out!` print go to standard error instead, so
/// they never mix with the output bytes.
static STDOUT_CARRIES_OUTPUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sends the messages of `outln!` and `out!` to standard error from now on,
/// because standard output carries the command's output file.
pub(crate) fn reserve_stdout_for_output() {
    STDOUT_CARRIES_OUTPUT.store(true, std::sync::atomic::Ordering::Relaxed);
}

macro_rules! outln {
    () => { $crate::terminal::write_stdout("\n") };
    ($($arg:tt)*) => {
        $crate::terminal::write_stdout(&::std::format!("{}\n", $crate::terminal::escape(&::std::format!($($arg)*))))
    };
}

/// Prints text of several lines to stdout through [`escape_multiline`],
/// without a final line feed.
macro_rules! out {
    ($($arg:tt)*) => { $crate::terminal::write_stdout(&$crate::terminal::escape_multiline(&::std::format!($($arg)*))) };
}

/// Prints a line to stderr through [`escape`].
macro_rules! errln {
    () => { ::std::eprintln!() };
    ($($arg:tt)*) => { ::std::eprintln!("{}", $crate::terminal::escape(&::std::format!($($arg)*))) };
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_become_visible() {
        let cases = [
            ("report\u{202e}fdp.exe", "report\\u{202e}fdp.exe"),
            ("\u{202a}a\u{202b}b\u{202c}c\u{202d}d", "\\u{202a}a\\u{202b}b\\u{202c}c\\u{202d}d"),
            ("\u{2066}x\u{2067}y\u{2068}z\u{2069}", "\\u{2066}x\\u{2067}y\\u{2068}z\\u{2069}"),
            ("\u{200e}left\u{200f}right\u{61c}", "\\u{200e}left\\u{200f}right\\u{61c}"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "{input:?}");
        }
    }

    #[test]
    fn invisible_characters_become_visible() {
        let cases = [
            ("alice\u{200b}", "alice\\u{200b}"),
            ("a\u{200c}b\u{200d}c", "a\\u{200c}b\\u{200d}c"),
            ("\u{2060}word\u{feff}", "\\u{2060}word\\u{feff}"),
            ("soft\u{ad}hyphen", "soft\\u{ad}hyphen"),
            ("hangul\u{3164}filler", "hangul\\u{3164}filler"),
            ("vs\u{fe0f}", "vs\\u{fe0f}"),
            ("tag\u{e0041}", "tag\\u{e0041}"),
            ("shorthand\u{1bca0}", "shorthand\\u{1bca0}"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "{input:?}");
        }
        let json = serde_json::to_string(&serde_json::json!({ "person": "alice\u{200b}" })).expect("encodes");
        assert_eq!(escape_json(&json), "{\"person\":\"alice\\u200b\"}");
    }

    #[test]
    fn terminal_controls_become_visible() {
        assert_eq!(escape("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(escape("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(escape("back\rover"), "back\\u{d}over");
        assert_eq!(escape("del\u{7f}"), "del\\u{7f}");
    }

    #[test]
    fn line_breaks_become_visible() {
        assert_eq!(escape("report.txt\nsigner: verified"), "report.txt\\u{a}signer: verified");
        assert_eq!(escape("a\r\nb\tc"), "a\\u{d}\\u{a}b\\u{9}c");
        assert_eq!(escape_multiline("one\ttwo\nthree\r"), "one\ttwo\nthree\\u{d}");
    }

    #[test]
    fn ordinary_text_is_borrowed() {
        let text = "Énergie ISAC شبكة";
        assert!(matches!(escape(text), Cow::Borrowed(_)));
        assert_eq!(escape(text), text);
        let lines = "Énergie ISAC\tشبكة\nline two";
        assert!(matches!(escape_multiline(lines), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_decode_to_the_original() {
        let value = serde_json::json!({ "name": "ACME\u{202e}rewop", "csi": "\u{9b}" });
        let json = serde_json::to_string(&value).expect("encodes");
        let escaped = escape_json(&json);
        assert!(escaped.contains("ACME\\u202erewop"), "{escaped}");
        assert!(!escaped.contains('\u{202e}'), "{escaped}");
        assert!(!escaped.contains('\u{9b}'), "{escaped}");
        let decoded: serde_json::Value = serde_json::from_str(&escaped).expect("still JSON");
        assert_eq!(decoded, value);
    }
}
