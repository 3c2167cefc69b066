//! `--git-history`: every blob reachable from any ref, each searched once and reported with the
//! first commit that added it (and the path it had there).
//!
//! This runs the `git` command (`git log --raw` for the blobs each commit adds, `git cat-file
//! --batch` for their contents) through `std::process` rather than linking libgit2 or a Rust
//! reimplementation: whoever has a repository has `git`, and `git` reads every object format,
//! pack, alternate, partial clone and config of that repository exactly as the user's own does;
//! libgit2 would add a C library to build (and its own parser of untrusted repositories) to a
//! pure-Rust command, and gitoxide a large dependency tree, for what two plumbing commands do.
//! Both commands stream: memory holds the set of blob ids seen, never a whole history or blob.

use super::search::{Ended, Hit, Searcher};
use crate::io::{Failure, usage};
use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// A blob to search: its id, the commit that first added it, and its path there.
#[derive(Debug, Clone)]
pub struct Blob {
    pub commit: String,
    pub path: String,
}

/// What happened to one blob, for the caller to report.
pub enum Event<'a> {
    /// A candidate in `blob`.
    Hit(&'a Blob, Hit),
    /// `blob` was searched (`bytes` long; `binary` when it stopped at a NUL byte).
    Searched { bytes: u64, binary: bool },
    /// `blob` is larger than the size limit and was not searched.
    TooLarge(&'a Blob, u64),
}

/// The top level of the work tree holding `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, Failure> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| usage(format!("--git-history needs the git command: {}", crate::io::describe(&e))))?;
    if !output.status.success() {
        return Err(usage(format!("--git-history: {} is not inside a git work tree", dir.display())));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim_end_matches(['\n', '\r'])))
}

/// Kills and reaps a child on every way out.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(repo: &Path, args: &[&str], stdin: bool) -> Result<Reaped, Failure> {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Reaped)
        .map_err(|e| usage(format!("cannot run git: {}", crate::io::describe(&e))))
}

/// The blobs in order, shared between the thread reading `git log` and the one reading `git
/// cat-file`; `None` once `git log` ended.
#[derive(Default)]
struct Queue {
    blobs: Mutex<(VecDeque<Blob>, bool)>,
    ready: Condvar,
}

/// Searches every blob of the history of `repo`, oldest commit first, files larger than
/// `max_bytes` skipped.
pub fn search_history(
    repo: &Path,
    searcher: &mut Searcher,
    max_bytes: u64,
    mut event: impl FnMut(Event<'_>),
) -> Result<(), Failure> {
    // --topo-order --reverse: parents before children, so a blob's first commit comes first.
    // --diff-merges=first-parent: what a merge brings in that no commit of the merged branch
    // had (an "evil merge") is seen too; what the branch's commits added is seen before it.
    let mut log = spawn(
        repo,
        &[
            "log",
            "--all",
            "--reverse",
            "--topo-order",
            "--no-renames",
            "--diff-merges=first-parent",
            "--raw",
            "--no-abbrev",
            "-z",
            "--format=commit %H",
        ],
        false,
    )?;
    let mut cat = spawn(repo, &["cat-file", "--batch"], true)?;
    let log_out = log.0.stdout.take().ok_or_else(|| usage("git log: no output"))?;
    let mut cat_in = cat.0.stdin.take().ok_or_else(|| usage("git cat-file: no input"))?;
    let cat_out = cat.0.stdout.take().ok_or_else(|| usage("git cat-file: no output"))?;
    let queue = Arc::new(Queue::default());

    let feeder = {
        let queue = Arc::clone(&queue);
        std::thread::spawn(move || {
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            let mut reader = BufReader::new(log_out);
            let mut commit = String::new();
            // After a ":meta" field comes its path: `Some(id)` for a new blob, `Some(None)` else.
            let mut path_of: Option<Option<Vec<u8>>> = None;
            let mut field = Vec::new();
            loop {
                field.clear();
                match reader.read_until(0, &mut field) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if field.last() == Some(&0) {
                    field.pop();
                }
                if let Some(id) = path_of.take() {
                    let Some(id) = id else { continue };
                    let blob = Blob { commit: commit.clone(), path: String::from_utf8_lossy(&field).into_owned() };
                    if writeln!(cat_in, "{}", String::from_utf8_lossy(&id)).is_err() {
                        break;
                    }
                    let mut blobs = queue.blobs.lock().unwrap_or_else(|e| e.into_inner());
                    blobs.0.push_back(blob);
                    queue.ready.notify_one();
                    continue;
                }
                // A commit's first raw entry follows a newline.
                let text = field.strip_prefix(b"\n").unwrap_or(&field);
                if let Some(hash) = text.strip_prefix(b"commit ") {
                    commit = String::from_utf8_lossy(hash).into_owned();
                } else if let Some(meta) = text.strip_prefix(b":") {
                    // ":old-mode new-mode old-id new-id status": a blob (100644, 100755) or a
                    // symlink (120000) that this commit adds or changes.
                    let parts: Vec<&[u8]> = meta.split(|b| *b == b' ').collect();
                    let mut new_blob = None;
                    if let [_, mode, _, id, status] = parts.as_slice() {
                        let is_blob = mode.starts_with(b"100") || mode.starts_with(b"120");
                        let present = id.iter().any(|b| *b != b'0') && !status.starts_with(b"D");
                        if is_blob && present && seen.insert(id.to_vec()) {
                            new_blob = Some(id.to_vec());
                        }
                    }
                    path_of = Some(new_blob);
                }
            }
            drop(cat_in);
            let mut blobs = queue.blobs.lock().unwrap_or_else(|e| e.into_inner());
            blobs.1 = true;
            queue.ready.notify_one();
        })
    };

    let mut reader = BufReader::new(cat_out);
    let mut header = Vec::new();
    let result = loop {
        let blob = {
            let mut blobs = queue.blobs.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(blob) = blobs.0.pop_front() {
                    break Some(blob);
                }
                if blobs.1 {
                    break None;
                }
                blobs = queue.ready.wait(blobs).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Some(blob) = blob else { break Ok(()) };
        header.clear();
        if (&mut reader).take(512).read_until(b'\n', &mut header).is_err() || header.is_empty() {
            break Err(usage("git cat-file ended early"));
        }
        // "<id> blob <size>\n" (or "<id> missing\n": a promisor remote's blob not fetched).
        let text = String::from_utf8_lossy(&header);
        let mut words = text.split_whitespace();
        let (_, kind, size) = (words.next(), words.next(), words.next().and_then(|s| s.parse::<u64>().ok()));
        let (Some("blob"), Some(size)) = (kind, size) else { continue };
        let mut content = (&mut reader).take(size);
        if size > max_bytes {
            event(Event::TooLarge(&blob, size));
        } else {
            match searcher.search(&mut content, |hit| event(Event::Hit(&blob, hit))) {
                Ok(ended) => event(Event::Searched { bytes: size, binary: ended == Ended::Binary }),
                Err(e) => break Err(usage(format!("reading git cat-file: {}", crate::io::describe(&e)))),
            }
        }
        // The rest of a blob not searched to its end, and the newline after it.
        if std::io::copy(&mut content, &mut std::io::sink()).is_err() {
            break Err(usage("git cat-file ended early"));
        }
        let mut newline = [0u8; 1];
        let _ = reader.read_exact(&mut newline);
    };
    drop(reader);
    // A feeder still writing ids (after an error here) must not wait on a full pipe.
    let _ = cat.0.kill();
    let _ = feeder.join();
    let status = log.0.wait().map_err(|e| usage(format!("git log: {}", crate::io::describe(&e))))?;
    result?;
    if !status.success() {
        return Err(usage(format!("git log failed in {} (is it a repository with commits?)", repo.display())));
    }
    Ok(())
}
