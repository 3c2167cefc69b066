//! `edgeward report`: streams decision records from files (or stdin) into the core's
//! [`edgeward::report::Report`] and renders its summary as text, JSON or one HTML page. What the
//! words mean (exercised, unused, reduce to) is the core's; this file reads and prints.

use crate::args::{ReportArgs, ReportFormat};
use crate::io::{self, Failure, usage};
use crate::verify::load_policy;
use edgeward::record::MAX_LINE_BYTES;
use edgeward::report::{Limits, PrincipalSummary, Report, Summary};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;

/// Read buffer per file.
const BUFFER_BYTES: usize = 256 * 1024;

/// Runs `report`.
pub fn run(args: &ReportArgs) -> Result<(), Failure> {
    let verifier = load_policy(&args.policy)?;
    let limits =
        Limits { max_principals: usize::try_from(args.max_principals).unwrap_or(usize::MAX), ..Limits::default() };
    let mut report = Report::new(verifier.policy(), limits);
    for path in &args.records {
        if path.as_os_str() == "-" {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(usage("no records on stdin: pipe them in, or name the files"));
            }
            feed(&mut report, BufReader::with_capacity(BUFFER_BYTES, stdin.lock()))
                .map_err(|e| usage(format!("cannot read the records from stdin: {}", io::describe(&e))))?;
        } else {
            let file =
                File::open(path).map_err(|e| usage(format!("cannot read {}: {}", path.display(), io::describe(&e))))?;
            feed(&mut report, BufReader::with_capacity(BUFFER_BYTES, file))
                .map_err(|e| usage(format!("cannot read {}: {}", path.display(), io::describe(&e))))?;
        }
    }
    let summary = report.summary();
    let counts = summary.counts;
    let skipped = counts.skipped_malformed + counts.skipped_too_long;
    if skipped > 0 {
        eprintln!(
            "edgeward: {skipped} line{} skipped ({} not decision records, {} over {MAX_LINE_BYTES} bytes)",
            plural(skipped),
            counts.skipped_malformed,
            counts.skipped_too_long
        );
    }
    if summary.principals_capped {
        eprintln!("edgeward: {}", capped_note(&summary));
    }
    let text = match args.format {
        ReportFormat::Text => text(&summary, &args.policy),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&summary).map_err(|e| Failure::Failed(format!("cannot write JSON: {e}")))?
        }
        ReportFormat::Html => html(&summary, &args.policy),
    };
    io::print(&text)
}

/// Feeds every line of `reader` to `report`; a line over [`MAX_LINE_BYTES`] is skipped without
/// being held (the rest of it is read past).
fn feed(report: &mut Report, mut reader: impl BufRead) -> std::io::Result<()> {
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            if too_long {
                report.skip_too_long();
            } else if !line.is_empty() {
                report.feed_line(&line);
            }
            return Ok(());
        }
        let (used, end) = match buffer.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, Some(i)),
            None => (buffer.len(), None),
        };
        let part = &buffer[..end.unwrap_or(used)];
        match end {
            // The common case: a whole line in the buffer, fed without a copy.
            Some(_) if line.is_empty() && !too_long => report.feed_line(part),
            _ => {
                if !too_long && line.len() + part.len() > MAX_LINE_BYTES {
                    too_long = true;
                    line = Vec::new();
                }
                if !too_long {
                    line.extend_from_slice(part);
                }
                if end.is_some() {
                    if too_long {
                        report.skip_too_long();
                    } else {
                        report.feed_line(&line);
                    }
                    line.clear();
                    too_long = false;
                }
            }
        }
        reader.consume(used);
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn capped_note(summary: &Summary) -> String {
    format!(
        "more than {} principals: {} records of later principals were counted, not summed up (--max-principals)",
        summary.max_principals, summary.counts.beyond_principal_cap
    )
}

/// A value from a record, safe on a terminal: control characters (escape sequences) shown as `?`.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "-".to_owned() } else { clean(&items.join(" ")) }
}

fn lifetime(p: &PrincipalSummary) -> String {
    let longest = p.longest_lifetime_seconds.map_or("-".to_owned(), |s| format!("{s} s"));
    match p.lifetime_bound_seconds {
        Some(bound) => format!("{longest} (bound {bound} s)"),
        None => format!("{longest} (no bound)"),
    }
}

fn refusal_text(code: &str, needed: &[String], count: u64) -> String {
    let needed = if needed.is_empty() {
        String::new()
    } else {
        format!(", needed {}", needed.iter().map(|s| format!("`{}`", clean(s))).collect::<Vec<_>>().join(" "))
    };
    format!("{}{needed}, {count} time{}", clean(code), plural(count))
}

fn admission_text(a: &edgeward::report::Admission) -> String {
    let mut parts = vec![format!("provider {}", a.provider)];
    if !a.scopes.is_empty() {
        parts.push(format!("scopes {}", a.scopes.join(" ")));
    }
    for (claim, values) in &a.claims {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        parts.push(format!("{claim} in [{}]", values.join(", ")));
    }
    if !a.peers.is_empty() {
        parts.push(format!("peers {}", a.peers.join(" ")));
    }
    if a.allow_missing {
        parts.push("or no token".to_owned());
    }
    parts.join(", ")
}

fn counts_line(summary: &Summary) -> String {
    let c = summary.counts;
    let span = match (&summary.first_seen, &summary.last_seen) {
        (Some(first), Some(last)) => format!(", {first} to {last}"),
        _ => String::new(),
    };
    format!(
        "{} record{} read{span}; {} skipped ({} not decision records, {} over {MAX_LINE_BYTES} bytes)",
        c.records,
        plural(c.records),
        c.skipped_malformed + c.skipped_too_long,
        c.skipped_malformed,
        c.skipped_too_long
    )
}

/// Columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
    out
}

fn text(summary: &Summary, policy: &Path) -> String {
    let mut out = format!("edgeward report against {}\n{}\n", policy.display(), counts_line(summary));
    if summary.principals_capped {
        let _ = writeln!(out, "{}", capped_note(summary));
    }
    let _ = writeln!(out, "\nPrincipals ({})\n", summary.principals.len());
    let rows: Vec<Vec<String>> = summary
        .principals
        .iter()
        .map(|p| {
            vec![
                clean(&p.name()),
                list(&p.client_ids),
                p.first_seen.clone(),
                p.last_seen.clone(),
                p.allowed.to_string(),
                p.refused.to_string(),
                list(&p.granted),
                list(&p.exercised),
                list(&p.unused),
            ]
        })
        .collect();
    out.push_str(&table(
        &["principal", "client_id", "first seen", "last seen", "allowed", "refused", "granted", "exercised", "unused"],
        &rows,
    ));
    for p in &summary.principals {
        let _ = writeln!(
            out,
            "\n{}{}",
            clean(&p.name()),
            if p.truncated { " (some entries left out: bounds)" } else { "" }
        );
        let rules: Vec<String> = p
            .rules
            .iter()
            .map(|(rule, used)| format!("{} ({} allowed, {} refused)", clean(rule), used.allowed, used.refused))
            .collect();
        let _ =
            writeln!(out, "  rules used:        {}", if rules.is_empty() { "-".to_owned() } else { rules.join(", ") });
        if let Some(recommendation) = &p.recommendation {
            let _ = writeln!(out, "  unused scopes:     {} -> {}", list(&p.unused), clean(recommendation));
        }
        if !p.wildcards.is_empty() {
            let _ = writeln!(out, "  wildcard grants:   {}", list(&p.wildcards));
        }
        let long = if p.only_long_lived { ", only long-lived tokens" } else { "" };
        let _ = writeln!(out, "  longest lifetime:  {}{long}", lifetime(p));
        for r in &p.refusals {
            let _ = writeln!(out, "  refused:           {}", refusal_text(&r.code, &r.needed, r.count));
        }
    }
    if !summary.only_long_lived.is_empty() {
        let names: Vec<String> = summary.only_long_lived.iter().map(|n| clean(n)).collect();
        let _ = writeln!(out, "\nOnly long-lived tokens (over {} s): {}", summary.long_lived_seconds, names.join(", "));
    }
    if !summary.unidentified.is_empty() {
        let _ = writeln!(out, "\nWithout a principal (no token, or refused before it verified)\n");
        let rows: Vec<Vec<String>> =
            summary.unidentified.iter().map(|u| vec![clean(&u.rule), clean(&u.code), u.count.to_string()]).collect();
        out.push_str(&table(&["rule", "code", "count"], &rows));
    }
    let _ = writeln!(out, "\nPermissions inventory (from the policy)\n");
    let rows: Vec<Vec<String>> = summary
        .inventory
        .rules
        .iter()
        .map(|r| {
            let methods = r.methods.as_ref().map_or("any".to_owned(), |m| m.join(" "));
            let admits = if r.public {
                "public: no token".to_owned()
            } else {
                r.admits.iter().map(admission_text).collect::<Vec<_>>().join(" | ")
            };
            vec![r.rule.clone(), methods, r.path.clone(), admits]
        })
        .collect();
    out.push_str(&table(&["rule", "methods", "path", "admits"], &rows));
    let public = if summary.inventory.public_routes.is_empty() {
        "none".to_owned()
    } else {
        summary.inventory.public_routes.join(", ")
    };
    let _ = write!(out, "\nPublic routes: {public}");
    out
}

/// Text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn scopes_html(items: &[String]) -> String {
    if items.is_empty() {
        return "<span class=\"none\">-</span>".to_owned();
    }
    items.iter().map(|s| format!("<span class=\"scope\">{}</span>", esc(s))).collect::<Vec<_>>().join(" ")
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.scope{display:inline-block;background:#eef2f7;border-radius:3px;padding:0 .3em;margin:1px;font-family:monospace}
td.unused .scope{background:#ffe3e3}.warn{color:#a40e26}.note{color:#57606a}
svg text{font:12px system-ui,sans-serif}.bar.granted{fill:#8fb3de}.bar.exercised{fill:#2f7d32}";

/// The chart: per principal, a bar of granted scopes and one of exercised scopes.
fn chart(summary: &Summary) -> String {
    const LABEL: usize = 260;
    const WIDTH: usize = 400;
    const ROW: usize = 34;
    let shown: Vec<&PrincipalSummary> = summary.principals.iter().take(50).collect();
    let most = shown.iter().map(|p| p.granted.len().max(p.exercised.len())).max().unwrap_or(0).max(1);
    let height = ROW * shown.len() + 30;
    let mut svg = format!(
        "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{}\" height=\"{height}\" \
         aria-label=\"Scopes granted and exercised per principal\">",
        LABEL + WIDTH + 60
    );
    let _ = write!(
        svg,
        "<rect x=\"{LABEL}\" y=\"4\" width=\"10\" height=\"10\" class=\"bar granted\"/><text x=\"{}\" y=\"13\">granted</text>\
         <rect x=\"{}\" y=\"4\" width=\"10\" height=\"10\" class=\"bar exercised\"/><text x=\"{}\" y=\"13\">exercised</text>",
        LABEL + 14,
        LABEL + 90,
        LABEL + 104
    );
    for (i, p) in shown.iter().enumerate() {
        let y = 24 + i * ROW;
        let name = esc(&p.name());
        let label: String = p.name().chars().take(40).collect();
        let _ = write!(svg, "<text x=\"0\" y=\"{}\">{}</text>", y + 16, esc(&label));
        for (offset, class, count) in [(0, "granted", p.granted.len()), (14, "exercised", p.exercised.len())] {
            let width = count * WIDTH / most;
            let _ = write!(
                svg,
                "<rect class=\"bar {class}\" data-principal=\"{name}\" data-count=\"{count}\" x=\"{LABEL}\" y=\"{}\" \
                 width=\"{width}\" height=\"12\"><title>{name}: {count} {class}</title></rect>\
                 <text x=\"{}\" y=\"{}\">{count}</text>",
                y + offset,
                LABEL + width + 4,
                y + offset + 10
            );
        }
    }
    svg.push_str("</svg>");
    if summary.principals.len() > shown.len() {
        let _ = write!(svg, "<p class=\"note\">The chart shows the {} principals with most requests.</p>", shown.len());
    }
    svg
}

fn html(summary: &Summary, policy: &Path) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>edgeward report</title><style>",
    );
    out.push_str(STYLE);
    out.push_str("</style></head><body>");
    let _ = write!(
        out,
        "<h1>edgeward report</h1><p>Against <code>{}</code>. <span id=\"counts\">{}</span></p>",
        esc(&policy.display().to_string()),
        esc(&counts_line(summary))
    );
    if summary.principals_capped {
        let _ = write!(out, "<p class=\"warn\" id=\"capped\">{}</p>", esc(&capped_note(summary)));
    }
    let _ = write!(out, "<h2>Principals ({})</h2>", summary.principals.len());
    out.push_str(
        "<table id=\"principals\"><thead><tr><th>principal</th><th>client_id</th><th>first seen</th><th>last seen</th>\
         <th>allowed</th><th>refused</th><th>rules used</th><th>granted</th><th>exercised</th><th>unused</th>\
         <th>recommendation</th><th>wildcards</th><th>longest lifetime</th><th>refusals</th></tr></thead><tbody>",
    );
    for p in &summary.principals {
        let rules: Vec<String> =
            p.rules.iter().map(|(rule, used)| format!("{} ({}/{})", esc(rule), used.allowed, used.refused)).collect();
        let refusals: Vec<String> =
            p.refusals.iter().map(|r| esc(&refusal_text(&r.code, &r.needed, r.count))).collect();
        let long = if p.only_long_lived { " <span class=\"warn\">only long-lived</span>" } else { "" };
        let _ = write!(
            out,
            "<tr class=\"principal\" data-principal=\"{}\"><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"allowed\">{}</td><td class=\"refused\">{}</td><td>{}</td><td class=\"granted\">{}</td>\
             <td class=\"exercised\">{}</td><td class=\"unused\">{}</td><td class=\"recommendation\">{}</td>\
             <td class=\"wildcards\">{}</td><td>{}{long}</td><td class=\"refusals\">{}</td></tr>",
            esc(&p.name()),
            esc(&p.name()),
            esc(&p.client_ids.join(" ")),
            esc(&p.first_seen),
            esc(&p.last_seen),
            p.allowed,
            p.refused,
            rules.join("<br>"),
            scopes_html(&p.granted),
            scopes_html(&p.exercised),
            scopes_html(&p.unused),
            esc(p.recommendation.as_deref().unwrap_or("")),
            scopes_html(&p.wildcards),
            esc(&lifetime(p)),
            refusals.join("<br>"),
        );
    }
    out.push_str("</tbody></table><h2>Scopes granted and exercised</h2>");
    out.push_str(&chart(summary));
    if !summary.unidentified.is_empty() {
        out.push_str(
            "<h2>Without a principal</h2><table id=\"unidentified\"><thead><tr><th>rule</th><th>code</th><th>count</th></tr></thead><tbody>",
        );
        for u in &summary.unidentified {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&u.rule), esc(&u.code), u.count);
        }
        out.push_str("</tbody></table>");
    }
    out.push_str(
        "<h2>Permissions inventory</h2><table id=\"inventory\"><thead><tr><th>rule</th><th>methods</th><th>path</th>\
         <th>admits</th></tr></thead><tbody>",
    );
    for r in &summary.inventory.rules {
        let methods = r.methods.as_ref().map_or("any".to_owned(), |m| m.join(" "));
        let admits = if r.public {
            "public: no token".to_owned()
        } else {
            r.admits.iter().map(|a| esc(&admission_text(a))).collect::<Vec<_>>().join("<br>")
        };
        let _ = write!(
            out,
            "<tr data-rule=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{admits}</td></tr>",
            esc(&r.rule),
            esc(&r.rule),
            esc(&methods),
            esc(&r.path)
        );
    }
    out.push_str("</tbody></table></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> edgeward::Policy {
        edgeward::Policy::from_json(
            r#"{"providers":{"idp":{"issuer":"https://idp","audiences":["api"],"remote_jwks":{"uri":"https://idp/k"}}},
                "rules":[{"match":{"prefix":"/"},"requires":{"provider_name":"idp","scopes":["a"]}}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn fed(input: &[u8]) -> edgeward::report::Counts {
        let mut report = Report::new(&policy(), Limits::default());
        feed(&mut report, BufReader::with_capacity(16, input)).unwrap_or_else(|e| panic!("{e}"));
        report.counts()
    }

    #[test]
    fn lines_are_read_across_buffers_and_huge_ones_skipped_unheld() {
        let good = br#"{"time":"2025-01-02T03:04:05.000Z","iss":"https://idp","sub":"b","status":200}"#;
        let mut input = Vec::new();
        input.extend_from_slice(good);
        input.push(b'\n');
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        input.push(b'\n');
        input.extend_from_slice(b"garbage\n\n");
        input.extend_from_slice(good);
        let counts = fed(&input);
        assert_eq!((counts.records, counts.skipped_too_long, counts.skipped_malformed, counts.blank), (2, 1, 1, 1));
        // A huge last line without a newline.
        let counts = fed(&vec![b'{'; MAX_LINE_BYTES * 3]);
        assert_eq!((counts.records, counts.skipped_too_long), (0, 1));
    }

    #[test]
    fn html_and_terminal_text_are_escaped() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(clean("bot\u{1b}[31m"), "bot?[31m");
    }
}
