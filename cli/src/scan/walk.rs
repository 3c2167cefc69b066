//! The working tree: files under the PATHs, walked like ripgrep walks them (the `ignore` crate:
//! `.gitignore`, `.ignore`, `.git/info/exclude` and the global excludes; hidden files and
//! directories skipped; symbolic links not followed), on several threads. `.git` directories are
//! never walked (`--git-history` reads the history through git).

use super::search::{Ended, Hit, Searcher};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

/// What the walk found, sent to the thread that reports.
pub enum Event {
    /// A candidate in the file at `path`.
    Hit(PathBuf, Hit),
    /// A file searched, `bytes` long (`binary` when it stopped at a NUL byte).
    Searched { bytes: u64, binary: bool },
    /// A file larger than the size limit, not searched.
    TooLarge(PathBuf, u64),
    /// A file or directory that could not be read, and why.
    Unreadable(String),
}

/// How to walk.
pub struct Walk<'a> {
    pub paths: &'a [PathBuf],
    pub hidden: bool,
    pub no_ignore: bool,
    pub threads: usize,
    pub max_bytes: u64,
    pub max_token_bytes: usize,
}

/// `path` without a leading `./` (as ripgrep prints paths when searching the current directory).
pub fn display_path(path: &Path) -> PathBuf {
    path.strip_prefix(".").map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

/// Walks and searches, sending what it finds to `events`; returns once every file is searched.
pub fn run(walk: &Walk<'_>, events: &Sender<Event>) {
    let Some((first, rest)) = walk.paths.split_first() else { return };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .hidden(!walk.hidden)
        .ignore(!walk.no_ignore)
        .git_ignore(!walk.no_ignore)
        .git_global(!walk.no_ignore)
        .git_exclude(!walk.no_ignore)
        .parents(!walk.no_ignore)
        .follow_links(false)
        .threads(walk.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    let (max_bytes, max_token_bytes) = (walk.max_bytes, walk.max_token_bytes);
    builder.build_parallel().run(|| {
        let events = events.clone();
        let mut searcher = Searcher::new(max_token_bytes);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let _ = events.send(Event::Unreadable(error.to_string()));
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = display_path(entry.path());
            let unreadable =
                |e: &std::io::Error| Event::Unreadable(format!("{}: {}", path.display(), crate::io::describe(e)));
            let size = match entry.metadata() {
                Ok(metadata) => metadata.len(),
                Err(e) => {
                    let _ = events.send(Event::Unreadable(format!("{}: {e}", path.display())));
                    return WalkState::Continue;
                }
            };
            if size > max_bytes {
                let _ = events.send(Event::TooLarge(path, size));
                return WalkState::Continue;
            }
            let file = match std::fs::File::open(entry.path()) {
                Ok(file) => file,
                Err(e) => {
                    let _ = events.send(unreadable(&e));
                    return WalkState::Continue;
                }
            };
            // Bounded even if the file grows while it is read.
            let result = searcher.search(std::io::Read::take(file, max_bytes), |hit| {
                let _ = events.send(Event::Hit(path.clone(), hit));
            });
            match result {
                Ok(ended) => {
                    let _ = events.send(Event::Searched { bytes: size, binary: ended == Ended::Binary });
                }
                Err(e) => {
                    let _ = events.send(unreadable(&e));
                }
            }
            WalkState::Continue
        })
    });
}
