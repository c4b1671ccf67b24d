//! The frame every page shares (head, header with the navigation and the other language, `main`, footer,
//! the style and the script, both inline from `assets/`), links that keep the language, and SVG's empty
//! elements, which maud cannot write.

use std::fmt::{Display, Write};

use events::event::EVENT_TYPES;
use maud::{Escaper, Markup, PreEscaped, Render, html};

use super::words::Lang;

/// The style of every page.
const STYLE: &str = include_str!("assets/style.css");

/// Keeps the page live and sorts tables by a column. It subscribes from the log head the page was rendered
/// at (`?after=`), so an event recorded between the render and the subscription is not missed, and it
/// fetches the page again until the fresh copy has reached the last event seen. Only `#live` is replaced,
/// so the form keeps the focus and what is being typed; a sorted table stays sorted. It listens for the
/// event types the page names in `data-events` (`EVENT_TYPES`), so Rust and the script share one list.
const SCRIPT: &str = include_str!("assets/page.js");

/// A whole page but its body.
pub struct Page<'a> {
    pub lang: Lang,
    /// Heads the page (h1).
    pub title: &'a str,
    /// What the page is about beside its title: the browser's tab then shows `subject — title`.
    pub subject: Option<&'a str>,
    /// The log head the page was rendered at: the script follows the log from there.
    pub head: u64,
    /// Whether the script follows the log (the dashboard) or not (the catalogue).
    pub live: bool,
    /// The same page in the other language.
    pub switch_to: String,
}

impl Page<'_> {
    pub fn render(&self, body: Markup) -> Markup {
        let lang = self.lang;
        // The style and the script begin on a line of their own, as they always have.
        html! {
            (PreEscaped("<!doctype html>"))
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { @if let Some(subject) = self.subject { (subject) " — " } (self.title) }
                    style { "\n" (PreEscaped(STYLE)) }
                }
                body data-live=(u8::from(self.live)) data-events=[self.live.then(|| EVENT_TYPES.join(" "))] {
                    header {
                        h1 { (self.title) }
                        nav aria-label=(lang.t("Điều hướng", "Navigation")) {
                            a href="/" { (lang.t("Bảng theo dõi", "Dashboard")) }
                            " · "
                            a href="/catalogue" { (lang.t("Danh mục thủ tục", "Catalogue")) }
                            " · "
                            @match lang {
                                Lang::Vi => a href=(self.switch_to) lang="en" { "English" },
                                Lang::En => a href=(self.switch_to) lang="vi" { "Tiếng Việt" },
                            }
                        }
                    }
                    main data-head=(self.head) { (body) }
                    footer class="muted" { p { "p30 — Đề án 30" } }
                    script { "\n" (PreEscaped(SCRIPT)) }
                }
            }
        }
    }
}

/// `path` in the page's language: `?lang=en` (or `&lang=en`) added for English.
pub fn link(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    if lang == Lang::En { format!("{path}{sep}lang=en") } else { path.to_owned() }
}

/// Percent-encodes everything but the unreserved characters, for a value in a query.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An empty SVG element, written `<line x1="0"/>`. maud writes an element without content as an HTML void
/// element, `<line x1="0">` with no slash; inside `<svg>` that start tag stays open, and the elements after
/// it would be read as its children. The values go through maud's escaper like any other.
pub struct Empty<'a> {
    name: &'static str,
    attrs: Vec<(&'static str, &'a dyn Display)>,
}

impl<'a> Empty<'a> {
    pub fn new(name: &'static str) -> Self {
        Self { name, attrs: Vec::new() }
    }

    pub fn attr(mut self, name: &'static str, value: &'a dyn Display) -> Self {
        self.attrs.push((name, value));
        self
    }

    pub fn attrs(mut self, attrs: &[(&'static str, &'a dyn Display)]) -> Self {
        self.attrs.extend_from_slice(attrs);
        self
    }
}

impl Render for Empty<'_> {
    fn render_to(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            // Writing to a String cannot fail.
            let _ = write!(Escaper::new(out), "{value}");
            out.push('"');
        }
        out.push_str("/>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_escapes_what_it_is_given_and_links_the_other_language() {
        let page = Page {
            lang: Lang::Vi,
            title: "Danh mục",
            subject: Some("<b>Thủ tục & \"mẫu\"</b>"),
            head: 7,
            live: false,
            switch_to: link("/catalogue/1.000001", Lang::En),
        };
        let html = page.render(html! { p { "x" } }).into_string();
        assert!(html.starts_with("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"), "{html}");
        assert!(html.contains("<title>&lt;b&gt;Thủ tục &amp; &quot;mẫu&quot;&lt;/b&gt; — Danh mục</title>"), "{html}");
        assert!(html.contains("<style>\n:root {"), "the style inline, on a line of its own");
        assert!(html.contains("<body data-live=\"0\"><header><h1>Danh mục</h1>"), "{html}");
        assert!(html.contains("<a href=\"/catalogue/1.000001?lang=en\" lang=\"en\">English</a></nav>"), "{html}");
        assert!(html.contains("<main data-head=\"7\"><p>x</p></main>"), "{html}");
        assert!(html.ends_with("})();\n</script></body></html>"), "the script inline, last");
    }

    #[test]
    fn a_live_page_names_the_event_types_the_script_listens_for() {
        let page = |live| Page { lang: Lang::En, title: "t", subject: None, head: 0, live, switch_to: "/".into() };
        let html = page(true).render(html! {}).into_string();
        let named = html.split(" data-events=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("");
        assert_eq!(named.split(' ').collect::<Vec<_>>(), EVENT_TYPES, "{html}");
        assert!(!page(false).render(html! {}).into_string().contains(" data-events=\""), "a page that is not live");
        assert!(EVENT_TYPES.iter().all(|t| !SCRIPT.contains(t)), "the script keeps no list of its own");
    }

    #[test]
    fn links_keep_the_language_and_query_values_are_encoded() {
        assert_eq!(link("/", Lang::Vi), "/");
        assert_eq!(link("/catalogue?sector=x", Lang::En), "/catalogue?sector=x&lang=en");
        assert_eq!(urlencode("Hộ tịch & A/B"), "H%E1%BB%99%20t%E1%BB%8Bch%20%26%20A%2FB");
    }

    #[test]
    fn an_empty_svg_element_closes_itself_and_escapes_its_values() {
        let line = Empty::new("line").attr("x1", &24.0).attrs(&[("stroke", &"\"><script>")]);
        assert_eq!(html! { (line) }.into_string(), "<line x1=\"24\" stroke=\"&quot;&gt;&lt;script&gt;\"/>");
    }
}
