//! Markdown rendering and HTML sanitizing for the portal's document renderers.
//!
//! This is a WebAssembly module of its own, apart from the viewer module: the
//! parsers and the sanitizer are most of its size, and the portal loads it only
//! when a Markdown or HTML document is opened.
//!
//! The portal shows the returned HTML only inside an `<iframe sandbox>` without
//! `allow-scripts` or `allow-same-origin`, behind a Content-Security-Policy that forbids
//! every fetch, so a sanitizer bypass still runs nothing and loads nothing. The policy
//! here is the first of those layers:
//!
//! - links keep only the `http`, `https` and `mailto` schemes; relative URLs, fragment
//!   links included, are dropped because the document has no base URL to resolve them;
//! - images are dropped whole (`img`, `picture`, `source`, `svg`): a remote image tells
//!   its server who read the document and when, and data images are rare in advisories;
//! - `style` attributes, `<style>` elements, scripts, forms, frames and event handler
//!   attributes are removed;
//! - every link gets `rel="noopener noreferrer"` and `target="_blank"`.
//!
//! NOTE: ammonia, html5ever and pulldown-cmark add 351,413 bytes of gzip to the portal
//! module (767,663 with this file, 416,250 without, both from `scripts/build.mjs` with
//! the `wasm` profile and wasm-opt -O3), more than the module's 300 KiB budget by
//! themselves. Building this file as a second module that the portal loads only for
//! Markdown and HTML documents would keep it out of the main module.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};
use wasm_bindgen::prelude::*;

/// URL schemes a link in a rendered document may use.
pub const ALLOWED_URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Elements removed with their content: besides ammonia's own `script` and `style`,
/// the elements whose text is never meant to be shown as prose.
const REMOVED_WITH_CONTENT: [&str; 9] = [
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
];

/// Elements ammonia allows by default that this policy removes (images and their
/// containers), keeping their text content where they have any.
const DENIED_TAGS: [&str; 4] = ["img", "picture", "source", "map"];

/// Builds the sanitizer policy shared by [`render_markdown`] and [`sanitize_html`].
fn sanitizer() -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .rm_tags(DENIED_TAGS)
        .clean_content_tags(HashSet::from(REMOVED_WITH_CONTENT))
        .url_schemes(HashSet::from(ALLOWED_URL_SCHEMES))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true);
    builder
}

/// Renders CommonMark (with tables, strikethrough, task lists and footnotes) to HTML and
/// sanitizes the result, raw HTML inside the Markdown included.
///
/// # Security
///
/// The output is safe to place in a sandboxed `srcdoc` iframe; see the module docs for
/// what the policy keeps.
#[wasm_bindgen(js_name = renderMarkdown)]
pub fn render_markdown(text: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    options.insert(Options::ENABLE_FOOTNOTES);

    // Images become their alt text in brackets, so the reader still learns what the
    // picture was; the sanitizer would drop the `img` element and its alt with it.
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Start(Tag::Image { .. }) => Event::Text(CowStr::Borrowed("[image: ")),
        Event::End(TagEnd::Image) => Event::Text(CowStr::Borrowed("]")),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(text.len() + text.len() / 2);
    html::push_html(&mut unsafe_html, events);
    sanitizer().clean(&unsafe_html).to_string()
}

/// Sanitizes an HTML document or fragment with the same policy as [`render_markdown`].
///
/// # Security
///
/// The output is safe to place in a sandboxed `srcdoc` iframe; see the module docs for
/// what the policy keeps.
#[wasm_bindgen(js_name = sanitizeHtml)]
pub fn sanitize_html(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elements that must never survive sanitizing.
    const FORBIDDEN_ELEMENTS: [&str; 16] = [
        "script", "style", "img", "svg", "iframe", "frame", "object", "embed", "form", "math",
        "link", "meta", "base", "video", "audio", "input",
    ];

    /// Fails with the offending output when sanitized HTML still contains an element or an
    /// attribute that can run script, load a resource or restyle the page.
    ///
    /// ammonia serializes every attribute value in double quotes and escapes `<` in
    /// text, so splitting on `<` finds every tag.
    fn assert_inert(case: &str, output: &str) {
        for tag in output.split('<').skip(1) {
            let head = tag.split('>').next().unwrap_or_default();
            if head.starts_with('/') {
                continue;
            }
            let name_end = head
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(head.len());
            let name = head[..name_end].to_ascii_lowercase();
            assert!(
                !FORBIDDEN_ELEMENTS.contains(&name.as_str()),
                "case {case:?}: element {name:?} in {output:?}"
            );
            let mut rest = &head[name_end..];
            while let Some(equals) = rest.find("=\"") {
                let attribute = rest[..equals].trim().to_ascii_lowercase();
                let after = &rest[equals + 2..];
                let value_end = after.find('"').unwrap_or(after.len());
                let value = after[..value_end].to_ascii_lowercase();
                rest = &after[(value_end + 1).min(after.len())..];
                assert!(
                    !attribute.starts_with("on")
                        && ![
                            "style",
                            "src",
                            "srcset",
                            "action",
                            "formaction",
                            "xlink:href"
                        ]
                        .contains(&attribute.as_str()),
                    "case {case:?}: attribute {attribute:?} in {output:?}"
                );
                if attribute == "href" {
                    assert!(
                        ALLOWED_URL_SCHEMES
                            .iter()
                            .any(|scheme| value.starts_with(&format!("{scheme}:"))),
                        "case {case:?}: link {value:?} outside the allowed schemes in {output:?}"
                    );
                }
            }
        }
    }

    fn fixtures() -> Option<std::path::PathBuf> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
        if path.is_dir() {
            Some(path)
        } else {
            eprintln!("fixtures folder {} is absent: skipping", path.display());
            None
        }
    }

    #[test]
    #[should_panic(expected = "attribute \"onclick\"")]
    fn inert_check_rejects_event_handlers() {
        assert_inert("self-test", "<p><a onclick=\"x()\">a</a></p>");
    }

    #[test]
    fn markdown_keeps_prose_tables_and_links() {
        let output = render_markdown(
            "# Alert\n\nSee [the advisory](https://example.org/a) or [mail](mailto:cert@example.org).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(output.contains("<h1>Alert</h1>"), "{output}");
        assert!(output.contains("<table>"), "{output}");
        assert!(
            output.contains("href=\"https://example.org/a\""),
            "{output}"
        );
        assert!(
            output.contains("href=\"mailto:cert@example.org\""),
            "{output}"
        );
        assert!(output.contains("rel=\"noopener noreferrer\""), "{output}");
        assert!(output.contains("target=\"_blank\""), "{output}");
    }

    #[test]
    fn markdown_drops_remote_and_data_images() {
        let output = render_markdown(
            "![beacon](https://tracker.example/p.gif)\n\n![inline](data:image/gif;base64,R0lGODlhAQABAAAAACw=)",
        );
        assert!(!output.contains("<img"), "{output}");
        assert!(
            output.contains("[image: beacon]"),
            "alt text stays readable: {output}"
        );
        assert!(!output.contains("tracker.example"), "{output}");
    }

    #[test]
    fn markdown_drops_script_links_and_raw_html() {
        let output = render_markdown(
            "[x](javascript:alert(1)) <script>alert(1)</script> <a href=\"vbscript:x\" onclick=\"alert(1)\">y</a> <p style=\"color:red\">z</p>",
        );
        assert_inert("inline", &output);
        assert!(output.contains('z'), "{output}");
    }

    #[test]
    fn relative_and_file_links_lose_their_target() {
        let output = sanitize_html(
            "<a href=\"/etc/passwd\">a</a><a href=\"file:///c:/x\">b</a><a href=\"#top\">c</a>",
        );
        assert!(!output.contains("href"), "{output}");
    }

    #[test]
    fn unicode_hosts_are_dropped_and_punycode_kept() {
        let output = sanitize_html("<a href=\"https://b\u{fc}cher.example/\">a</a><a href=\"https://xn--bcher-kva.example/\">b</a>");
        assert!(
            output.starts_with("<a target=\"_blank\" rel=\"noopener noreferrer\">a</a>"),
            "{output}"
        );
        assert!(
            output.contains("href=\"https://xn--bcher-kva.example/\""),
            "{output}"
        );
    }

    #[test]
    fn dompurify_payloads_are_inert() {
        let Some(root) = fixtures() else { return };
        let text = std::fs::read_to_string(root.join("hostile/xss/dompurify_expect.derived.json"))
            .expect("the DOMPurify payload file is readable");
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&text).expect("the payload file is JSON");
        assert!(
            cases.len() > 50,
            "expected the full DOMPurify payload list, found {}",
            cases.len()
        );
        for case in &cases {
            let title = case["title"].as_str().unwrap_or_default();
            let payload = case["payload"].as_str().unwrap_or_default();
            assert_inert(title, &sanitize_html(payload));
            assert_inert(title, &render_markdown(payload));
        }
    }

    #[test]
    fn markdown_it_xss_cases_are_inert() {
        let Some(root) = fixtures() else { return };
        let text = std::fs::read_to_string(root.join("hostile/markdown/xss.txt"))
            .expect("the markdown-it XSS file is readable");
        // Each case is three lines of "." around an input and its expected output:
        // ".", input, ".", expected, ".". Prose sits between the cases.
        let mut count = 0;
        let mut dots = 0;
        let mut input = String::new();
        for line in text.lines() {
            if line == "." {
                dots = (dots + 1) % 3;
                if dots == 2 {
                    count += 1;
                    assert_inert(&input, &render_markdown(&input));
                    input.clear();
                }
            } else if dots == 1 {
                input.push_str(line);
                input.push('\n');
            }
        }
        assert!(
            count > 5,
            "expected several markdown-it cases, found {count}"
        );
        assert_inert("whole file", &render_markdown(&text));
    }
}
