//! `edgeward scan [PATH…]`: tokens in code, configuration and (with `--git-history`) the git
//! history, each decoded and judged by the core (`edgeward::audit`); here only the walking, the
//! history, suppression, output and the exit status.

mod git;
mod output;
mod search;
mod walk;

use crate::args::{FailOn, ScanArgs, ScanFormat};
use crate::io::{self, Failure, usage};
use edgeward::audit::{AuditOptions, Severity, TokenAudit, audit_token};
use edgeward::{DEFAULT_MAX_LIFETIME_SECONDS, DEFAULT_MAX_TOKEN_BYTES, Verifier};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The suppression file read from each directory scanned (and `--ignore-file`).
pub const IGNORE_FILE: &str = ".edgeward-scan-ignore";

/// Where a token was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file, as walked (relative to the repository's top for the history).
    pub path: String,
    pub line: u64,
    pub column: u64,
    /// For a blob of the history: the first commit that added it.
    pub commit: Option<String>,
}

/// One token found, and what the core makes of it.
#[derive(Debug)]
pub struct Report {
    pub location: Location,
    pub audit: TokenAudit,
}

/// What the scan did, for the summary.
#[derive(Debug, Default)]
pub struct Stats {
    files: u64,
    bytes: u64,
    binary: u64,
    blobs: u64,
    too_large: Vec<(String, u64)>,
    unreadable: u64,
    suppressed: u64,
    repeated_in_history: u64,
    fail_on: Option<Severity>,
}

impl Stats {
    fn summary(&self, reports: &[Report]) -> String {
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let mut by_severity: Vec<String> = Vec::new();
        for severity in Severity::ALL.iter().rev() {
            let n = reports.iter().filter(|r| r.audit.severity() == *severity).count();
            if n > 0 {
                by_severity.push(format!("{n} {}", severity.name()));
            }
        }
        let mut text = plural(count(reports.len()), "token");
        if !by_severity.is_empty() {
            text.push_str(&format!(" ({})", by_severity.join(", ")));
        }
        if self.suppressed > 0 {
            text.push_str(&format!(", {} suppressed ({IGNORE_FILE})", self.suppressed));
        }
        text.push_str(&format!("; {} ({}) searched", plural(self.files, "file"), mebibytes(self.bytes)));
        if self.blobs > 0 {
            text.push_str(&format!(", {} of the git history", plural(self.blobs, "blob")));
        }
        if self.binary > 0 {
            text.push_str(&format!(", {} binary (searched up to the first NUL byte)", self.binary));
        }
        if !self.too_large.is_empty() {
            text.push_str(&format!(", {} over --max-filesize skipped", count(self.too_large.len())));
        }
        if self.unreadable > 0 {
            text.push_str(&format!(", {} unreadable", plural(self.unreadable, "path")));
        }
        if let Some(fail_on) = self.fail_on {
            let failing = reports.iter().filter(|r| r.audit.severity() >= fail_on).count();
            text.push_str(&format!("; {failing} at or above --fail-on {}", fail_on.name()));
        }
        text
    }
}

fn mebibytes(bytes: u64) -> String {
    // Shown to one decimal: u64 → f64 rounding does not matter here.
    #[allow(clippy::as_conversions)]
    let mib = bytes as f64 / 1_048_576.0;
    format!("{mib:.1} MiB")
}

/// The fingerprints listed in a suppression file: the first word of each line that is not blank
/// or a `#` comment, a `sha256:…` fingerprint or a redacted token ending in `[sha256:…]`.
fn read_ignore_file(path: &Path, into: &mut HashSet<String>) -> Result<(), Failure> {
    let text = io::read_text(path, "suppression file")?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or_default();
        let fingerprint = word.rsplit('[').next().unwrap_or(word).trim_end_matches(']');
        let digits = fingerprint.strip_prefix("sha256:").unwrap_or_default();
        if digits.len() != edgeward::audit::FINGERPRINT_HEX_DIGITS || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(usage(format!(
                "{}:{}: expected a fingerprint (sha256: and {} hex digits, as edgeward scan prints them)",
                path.display(),
                n + 1,
                edgeward::audit::FINGERPRINT_HEX_DIGITS
            )));
        }
        into.insert(format!("sha256:{}", digits.to_ascii_lowercase()));
    }
    Ok(())
}

/// A progress line on stderr, when it is a terminal and the scan takes more than a second.
struct Progress {
    on: bool,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new() -> Progress {
        let now = Instant::now();
        Progress { on: std::io::stderr().is_terminal(), started: now, last: now, shown: false }
    }

    fn tick(&mut self, stats: &Stats, tokens: usize) {
        if !self.on
            || self.started.elapsed() < Duration::from_secs(1)
            || self.last.elapsed() < Duration::from_millis(200)
        {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Kscanning: {} files, {} blobs, {}, {tokens} tokens",
            stats.files,
            stats.blobs,
            mebibytes(stats.bytes)
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
            self.shown = false;
        }
    }
}

/// Runs `scan`: `Ok` unless a token at or above `--fail-on` was found (exit 1).
pub fn run(args: &ScanArgs) -> Result<(), Failure> {
    let now = io::now_or_clock(args.now)?;
    if args.fetch.fetch_keys && args.policy.is_none() {
        return Err(usage("--fetch-keys needs --policy (the providers whose keys to fetch)"));
    }
    let mut verifier: Option<Verifier> = match &args.policy {
        Some(path) => {
            let mut verifier = crate::verify::load_policy(path)?;
            if args.fetch.fetch_keys {
                crate::fetch::fetch_keys(&mut verifier, None, &args.fetch, &path.display().to_string())?;
            }
            Some(verifier)
        }
        None => None,
    };
    let max_token_bytes = verifier.as_ref().map_or(DEFAULT_MAX_TOKEN_BYTES, |v| v.policy().max_token_bytes);
    let options = AuditOptions {
        now,
        max_lifetime_seconds: args.max_lifetime.unwrap_or(DEFAULT_MAX_LIFETIME_SECONDS),
        max_token_bytes,
    };
    let paths: Vec<PathBuf> = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    for path in &paths {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(usage(format!("cannot scan {}: no such file or directory", path.display())));
        }
    }
    let mut suppressed: HashSet<String> = HashSet::new();
    for path in &paths {
        let file = path.join(IGNORE_FILE);
        if path.is_dir() && file.is_file() {
            read_ignore_file(&file, &mut suppressed)?;
        }
    }
    if let Some(file) = &args.ignore_file {
        read_ignore_file(file, &mut suppressed)?;
    }
    let repo = if args.git_history {
        Some(git::toplevel(if paths[0].is_dir() { &paths[0] } else { Path::new(".") })?)
    } else {
        None
    };

    let mut stats = Stats { fail_on: args.fail_on.severity(), ..Stats::default() };
    let mut reports: Vec<Report> = Vec::new();
    let mut progress = Progress::new();
    // Each candidate is decoded here, on one thread: tokens are rare next to the bytes searched.
    let mut consider = |location: Location, token: &str, stats: &mut Stats, reports: &mut Vec<Report>| {
        let Some(mut audit) = audit_token(token, &options) else { return };
        if suppressed.contains(&audit.fingerprint) {
            stats.suppressed += 1;
            return;
        }
        if let Some(verifier) = verifier.as_mut() {
            audit.add_verdict(verifier.audit(token, now));
        }
        reports.push(Report { location, audit });
    };

    let threads = args.threads.map_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()), usize::from);
    let walk = walk::Walk {
        paths: &paths,
        hidden: args.hidden,
        no_ignore: args.no_ignore,
        threads,
        max_bytes: args.max_filesize,
        max_token_bytes,
    };
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(move || walk::run(&walk, &sender));
        loop {
            match receiver.recv_timeout(Duration::from_millis(200)) {
                Ok(walk::Event::Hit(path, hit)) => {
                    let location = Location {
                        path: path.to_string_lossy().into_owned(),
                        line: hit.line,
                        column: hit.column,
                        commit: None,
                    };
                    consider(location, &hit.token, &mut stats, &mut reports);
                }
                Ok(walk::Event::Searched { bytes, binary }) => {
                    stats.files += 1;
                    stats.bytes += bytes;
                    stats.binary += u64::from(binary);
                }
                Ok(walk::Event::TooLarge(path, size)) => stats.too_large.push((path.display().to_string(), size)),
                Ok(walk::Event::Unreadable(why)) => {
                    stats.unreadable += 1;
                    progress.clear();
                    eprintln!("edgeward: warning: {why}");
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            progress.tick(&stats, reports.len());
        }
    });
    // Parallel walks finish in any order; a report is sorted by place.
    reports.sort_by(|a, b| a.location.cmp(&b.location));

    if let Some(repo) = &repo {
        let mut searcher = search::Searcher::new(max_token_bytes);
        // A token is reported once from the history: where it first appeared.
        let mut seen: HashSet<String> = HashSet::new();
        let mut history: Vec<Report> = Vec::new();
        git::search_history(repo, &mut searcher, args.max_filesize, |event| match event {
            git::Event::Hit(blob, hit) => {
                let location = Location {
                    path: blob.path.clone(),
                    line: hit.line,
                    column: hit.column,
                    commit: Some(blob.commit.clone()),
                };
                let before = history.len();
                consider(location, &hit.token, &mut stats, &mut history);
                if history.len() > before {
                    let fingerprint = history[before].audit.fingerprint.clone();
                    if !seen.insert(fingerprint) {
                        history.pop();
                        stats.repeated_in_history += 1;
                    }
                }
            }
            git::Event::Searched { bytes, binary } => {
                stats.blobs += 1;
                stats.bytes += bytes;
                stats.binary += u64::from(binary);
                progress.tick(&stats, reports.len() + history.len());
            }
            git::Event::TooLarge(blob, size) => {
                stats.too_large.push((format!("{}:{}", &blob.commit[..blob.commit.len().min(12)], blob.path), size));
            }
        })?;
        reports.extend(history);
    }
    progress.clear();

    for (path, size) in &stats.too_large {
        eprintln!(
            "edgeward: warning: skipped {path}: {} is over --max-filesize ({})",
            mebibytes(*size),
            mebibytes(args.max_filesize)
        );
    }
    match args.format {
        ScanFormat::Table => io::print(&output::table(&reports, &stats))?,
        ScanFormat::Json => {
            for report in &reports {
                io::print(&output::json_line(report))?;
            }
        }
        ScanFormat::Sarif => io::print(&output::sarif(&reports))?,
    }
    if let Some(threshold) = stats.fail_on {
        let failing = reports.iter().filter(|r| r.audit.severity() >= threshold).count();
        if failing > 0 {
            let plural = if failing == 1 { "" } else { "s" };
            return Err(Failure::Failed(format!(
                "{failing} token{plural} at or above --fail-on {} found",
                threshold.name()
            )));
        }
    }
    Ok(())
}

impl FailOn {
    /// The lowest severity that fails the scan; `None` for `never`.
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

/// `--max-filesize`: bytes, or with a K, M or G suffix (binary multiples).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = number.parse().map_err(|_| format!("\"{text}\" is not a size (e.g. 1048576, 512K, 64M, 2G)"))?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("\"{text}\": the unit must be K, M or G")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("\"{text}\" is too large"))
}

/// `--max-lifetime`: seconds, or with an s, m, h or d suffix.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = number.parse().map_err(|_| format!("\"{text}\" is not a duration (e.g. 3600, 15m, 12h, 30d)"))?;
    let scale: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("\"{text}\": the unit must be s, m, h or d")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("\"{text}\" is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("1T").is_err() && parse_size("x").is_err());
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert!(parse_duration("1w").is_err());
    }
}
