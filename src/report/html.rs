//! A tiny HTML builder: escaped text, tables, sections, inline SVG figures and the page's CSS.
//!
//! The report must open anywhere, offline, forever: one file, no scripts, no fonts or images
//! fetched from anywhere, so figures are inline SVG and the stylesheet is a few lines in `<style>`.
//! A template engine would add a dependency for what is string concatenation with escaping.

use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The stylesheet: readable type, tables with tabular numbers, print-friendly.
pub const CSS: &str = r#"
:root{--fg:#212121;--muted:#646464;--line:#e3e3e3;--accent:#008bfb;--warn:#b26a00;--bad:#c4003a;--good:#1b7f3b}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);max-width:980px;margin:0 auto;padding:28px 24px 60px}
h1{font-size:28px;margin:0 0 4px}
h2{font-size:21px;margin:44px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:24px 0 6px}
p,li{max-width:72ch}
.sub{color:var(--muted);margin:0 0 18px}
nav{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 16px;margin:18px 0}
nav ol{columns:2;margin:6px 0;padding-left:20px}
a{color:#0062b1}
table{border-collapse:collapse;margin:8px 0 14px;font-size:14px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:22px}
.card span{color:var(--muted);font-size:13px}
.warn{background:#fff6e6;border-left:4px solid #f0a020;padding:8px 14px;margin:10px 0}
.warn ul{margin:4px 0;padding-left:20px}
.ok{background:#eef8f0;border-left:4px solid var(--good);padding:8px 14px;margin:10px 0}
.bad{background:#fdecef;border-left:4px solid var(--bad);padding:8px 14px;margin:10px 0}
figure{margin:14px 0 22px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:13px;margin-top:4px;max-width:72ch}
.local{border-top:1px solid var(--line);padding-top:6px}
code{font-size:13px;background:#f6f8fa;padding:1px 4px;border-radius:3px;word-break:break-all}
@media print{nav{display:none}h2{break-before:page}figure{break-inside:avoid}}
"#;

/// An HTML document being written.
pub struct Page {
    body: String,
    toc: Vec<(String, String)>,
    title: String,
}

impl Page {
    /// A new page with this `<title>`.
    pub fn new(title: &str) -> Self {
        Page {
            body: String::new(),
            toc: Vec::new(),
            title: title.to_string(),
        }
    }

    /// Appends raw HTML (the caller escapes).
    pub fn raw(&mut self, html: &str) {
        self.body.push_str(html);
        self.body.push('\n');
    }

    /// A paragraph of escaped text.
    pub fn p(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
    }

    /// A section heading, listed in the table of contents.
    pub fn h2(&mut self, id: &str, text: &str) {
        self.toc.push((id.to_string(), text.to_string()));
        let _ = writeln!(self.body, "<h2 id=\"{}\">{}</h2>", escape(id), escape(text));
    }

    /// A sub-heading.
    pub fn h3(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h3>{}</h3>", escape(text));
    }

    /// A box of warnings (nothing when empty).
    pub fn warnings(&mut self, title: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let _ = write!(
            self.body,
            "<div class=\"warn\"><b>{}</b><ul>",
            escape(title)
        );
        for w in items {
            let _ = write!(self.body, "<li>{}</li>", escape(w));
        }
        self.body.push_str("</ul></div>\n");
    }

    /// A status box: `class` is `ok`, `warn` or `bad`.
    pub fn status(&mut self, class: &str, text: &str) {
        let _ = writeln!(self.body, "<div class=\"{class}\">{}</div>", escape(text));
    }

    /// An inline SVG figure with a caption.
    pub fn figure(&mut self, svg: &str, caption: &str) {
        // The SVG writer's output starts with `<svg`; anything before it (an XML declaration)
        // would be invalid inside HTML.
        let start = svg.find("<svg").unwrap_or(0);
        let _ = write!(self.body, "<figure>{}", &svg[start..]);
        if !caption.is_empty() {
            let _ = write!(self.body, "<figcaption>{}</figcaption>", escape(caption));
        }
        self.body.push_str("</figure>\n");
    }

    /// A table; cells are escaped; columns whose header starts with `#` are right-aligned numbers
    /// (the `#` is not shown).
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let numeric: Vec<bool> = headers.iter().map(|h| h.starts_with('#')).collect();
        self.body.push_str("<table>");
        // A key–value table (all headers empty) has no header row.
        if headers
            .iter()
            .any(|h| !h.trim_start_matches('#').is_empty())
        {
            self.body.push_str("<thead><tr>");
            for (h, &num) in headers.iter().zip(&numeric) {
                let class = if num { " class=\"n\"" } else { "" };
                let _ = write!(
                    self.body,
                    "<th{class}>{}</th>",
                    escape(h.trim_start_matches('#'))
                );
            }
            self.body.push_str("</tr></thead>");
        }
        self.body.push_str("<tbody>");
        for row in rows {
            self.body.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if numeric.get(i).copied().unwrap_or(false) {
                    " class=\"n\""
                } else {
                    ""
                };
                let _ = write!(self.body, "<td{class}>{}</td>", escape(cell));
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table>\n");
    }

    /// Summary cards: (big value, label).
    pub fn cards(&mut self, cards: &[(String, String)]) {
        self.body.push_str("<div class=\"cards\">");
        for (v, l) in cards {
            let _ = write!(
                self.body,
                "<div class=\"card\"><b>{}</b><span>{}</span></div>",
                escape(v),
                escape(l)
            );
        }
        self.body.push_str("</div>\n");
    }

    /// The complete document: header with `heading` and `subtitle`, table of contents, body.
    pub fn finish(self, heading: &str, subtitle: &str) -> String {
        let mut out = String::with_capacity(self.body.len() + 4096);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"glassbox {}\">\n<title>{}</title>\n<style>{}</style>\n\
             </head>\n<body>\n<header><h1>{}</h1><p class=\"sub\">{}</p></header>\n",
            env!("CARGO_PKG_VERSION"),
            escape(&self.title),
            CSS,
            escape(heading),
            escape(subtitle)
        );
        out.push_str("<nav><b>Contents</b><ol>");
        for (id, text) in &self.toc {
            let _ = write!(
                out,
                "<li><a href=\"#{}\">{}</a></li>",
                escape(id),
                escape(text)
            );
        }
        out.push_str("</ol></nav>\n<main>\n");
        out.push_str(&self.body);
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn numeric_columns_are_right_aligned() {
        let mut p = Page::new("t");
        p.table(&["name", "#value"], &[vec!["x<1".into(), "2".into()]]);
        let html = p.finish("h", "s");
        assert!(html.contains("<th class=\"n\">value</th>"));
        assert!(html.contains("<td>x&lt;1</td><td class=\"n\">2</td>"));
    }
}
