//! Finding token candidates in a stream of bytes with a bounded buffer: [`TOKEN_PATTERN`]
//! (compiled with the `regex` crate) over chunks of [`CHUNK_BYTES`], a match counting only when
//! the bytes around it are not token bytes. Whatever the input (one line of gigabytes, binary,
//! invalid UTF-8), the buffer never grows past `CHUNK_BYTES + max_token_bytes`, and a run of
//! token bytes longer than `max_token_bytes` is skipped without being kept.

use edgeward::audit::{TOKEN_PATTERN, is_token_byte};
use regex::bytes::Regex;
use std::io::{self, Read};

/// Bytes read at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A candidate: where it starts (1-based line, 1-based byte column) and its text.
#[derive(Debug)]
pub struct Hit {
    pub line: u64,
    pub column: u64,
    pub token: String,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The whole input was read.
    Done,
    /// A NUL byte: binary, not searched further (ripgrep's rule; hits before it are kept).
    Binary,
}

/// One searcher per thread: the compiled pattern and the buffer, reused across files.
pub struct Searcher {
    regex: Regex,
    buffer: Vec<u8>,
    max_token_bytes: usize,
}

fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Searcher {
    /// A searcher for candidates of at most `max_token_bytes`.
    pub fn new(max_token_bytes: usize) -> Searcher {
        // The pattern is a constant of the core, tested to compile.
        #[allow(clippy::expect_used)]
        let regex = Regex::new(TOKEN_PATTERN).expect("TOKEN_PATTERN compiles");
        Searcher { regex, buffer: vec![0; CHUNK_BYTES + max_token_bytes], max_token_bytes }
    }

    /// Reads `input` to its end (or its first NUL byte), calling `hit` for each candidate.
    pub fn search(&mut self, mut input: impl Read, mut hit: impl FnMut(Hit)) -> io::Result<Ended> {
        let capacity = self.buffer.len();
        let mut len = 0; // bytes held in the buffer
        let mut offset: u64 = 0; // the input offset of buffer[0]
        let mut line: u64 = 1; // the line at `counted`
        let mut line_start: u64 = 0; // the input offset where that line starts
        let mut skipping = false; // inside a run of token bytes too long to be a token
        loop {
            let before = len;
            let mut eof = false;
            while len < capacity {
                match input.read(&mut self.buffer[len..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            let mut binary = false;
            let mut end = len;
            if let Some(nul) = memchr::memchr(0, &self.buffer[before..len]) {
                binary = true;
                eof = true;
                end = before + nul;
            }
            // Candidates end before the last non-token byte; the run after it may go on in the
            // next chunk.
            let cut = if eof {
                end
            } else {
                self.buffer[..end].iter().rposition(|b| !is_token_byte(*b)).map_or(0, |i| i + 1)
            };
            let mut start = 0;
            if skipping {
                match self.buffer[..cut].iter().position(|b| !is_token_byte(*b)) {
                    Some(i) => {
                        start = i;
                        skipping = false;
                    }
                    None => start = cut,
                }
            }
            let buffer = &self.buffer[..cut];
            let mut counted = 0; // lines are counted up to here
            for m in self.regex.find_iter(&buffer[start..]) {
                let (s, e) = (start + m.start(), start + m.end());
                let before_ok = s == 0 || !is_token_byte(buffer[s - 1]);
                let after_ok = e == buffer.len() || !is_token_byte(buffer[e]);
                if !before_ok || !after_ok || e - s > self.max_token_bytes {
                    continue;
                }
                advance(&buffer[counted..s], offset + wide(counted), &mut line, &mut line_start);
                counted = s;
                let token = String::from_utf8_lossy(&buffer[s..e]).into_owned();
                hit(Hit { line, column: offset + wide(s) - line_start + 1, token });
            }
            advance(&buffer[counted..cut], offset + wide(counted), &mut line, &mut line_start);
            if binary {
                return Ok(Ended::Binary);
            }
            if eof {
                return Ok(Ended::Done);
            }
            // Keep the unfinished run, unless it is already too long to be one token.
            self.buffer.copy_within(cut..len, 0);
            offset += wide(cut);
            len -= cut;
            if len > self.max_token_bytes {
                offset += wide(len);
                len = 0;
                skipping = true;
            }
        }
    }
}

/// Counts the lines of `bytes` (which start at input offset `at`).
fn advance(bytes: &[u8], at: u64, line: &mut u64, line_start: &mut u64) {
    let newlines = memchr::memchr_iter(b'\n', bytes).count();
    if newlines > 0 {
        *line += wide(newlines);
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            *line_start = at + wide(last) + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln";

    fn hits(input: &[u8], max: usize) -> (Vec<(u64, u64, String)>, Ended) {
        let mut searcher = Searcher::new(max);
        let mut found = Vec::new();
        let ended = searcher.search(input, |h| found.push((h.line, h.column, h.token))).unwrap();
        (found, ended)
    }

    #[test]
    fn finds_candidates_with_line_and_column() {
        let text = format!("a\nkey = \"{T}\"\n\n  {T}.x {T}\n{T}");
        let (found, ended) = hits(text.as_bytes(), 16 * 1024);
        assert_eq!(ended, Ended::Done);
        let at: Vec<(u64, u64)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
        // The one followed by `.x` has four segments: not a candidate.
        assert_eq!(at, [(2, 8), (4, wide(2 + T.len() + 3 + 1)), (5, 1)]);
        assert!(found.iter().all(|(_, _, t)| t == T));
    }

    #[test]
    fn candidates_across_chunk_boundaries_are_found_once() {
        for pad in [CHUNK_BYTES - 10, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 3, 2 * CHUNK_BYTES - 20] {
            let mut text = vec![b' '; pad];
            text.extend_from_slice(T.as_bytes());
            text.extend_from_slice(b"\nnext ");
            text.extend_from_slice(T.as_bytes());
            let (found, _) = hits(&text, 16 * 1024);
            assert_eq!(found.len(), 2, "pad {pad}");
            assert_eq!((found[0].0, found[0].1), (1, wide(pad + 1)), "pad {pad}");
            assert_eq!((found[1].0, found[1].1), (2, 6), "pad {pad}");
        }
    }

    #[test]
    fn huge_lines_and_long_runs_stay_bounded() {
        // A run of token bytes far longer than the buffer, a token after it.
        let mut text = vec![b'A'; 3 * CHUNK_BYTES];
        text.extend_from_slice(format!(" {T}").as_bytes());
        let mut searcher = Searcher::new(1024);
        let capacity = searcher.buffer.len();
        let mut found = Vec::new();
        searcher.search(&text[..], |h| found.push(h.column)).unwrap();
        assert_eq!(found, [wide(3 * CHUNK_BYTES + 2)]);
        assert_eq!(searcher.buffer.len(), capacity);
        // A candidate longer than the cap is skipped.
        let long = format!("eyJhbGciOiJub25lIn0.{}.", "A".repeat(2000));
        assert!(hits(long.as_bytes(), 1024).0.is_empty());
        assert_eq!(hits(long.as_bytes(), 4096).0.len(), 1);
    }

    #[test]
    fn binary_input_stops_at_nul_and_invalid_utf8_is_fine() {
        let mut text = format!("{T}\n").into_bytes();
        text.extend_from_slice(&[0xff, 0xfe, b' ']);
        text.extend_from_slice(T.as_bytes());
        text.extend_from_slice(b"\n\0");
        text.extend_from_slice(T.as_bytes());
        let (found, ended) = hits(&text, 16 * 1024);
        assert_eq!(ended, Ended::Binary);
        assert_eq!(found.len(), 2);
        assert_eq!((found[1].0, found[1].1), (2, 4));
    }
}
