//! Everything the commands need from the outside world: files, stdin, stdout, the clock, and
//! the one-line failures that become the exit status.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest file or stdin input read, in bytes (policies are capped at 4 MiB by the core).
pub const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;

/// Why a command did not succeed; each kind has its exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage, an unreadable or invalid file, an invalid policy: exit 2.
    Usage(String),
    /// The operation ran and said no (a refused token), or could not be done: exit 1.
    Failed(String),
    /// `--fetch-keys` could not get a provider's keys (unreachable, TLS, an HTTP status, too
    /// large, or a document the core refuses): exit 3.
    Fetch(String),
}

impl Failure {
    /// The process exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Failed(_) => 1,
            Failure::Fetch(_) => 3,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Failed(message) | Failure::Fetch(message) => f.write_str(message),
        }
    }
}

/// A usage failure with `message`.
pub fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

/// Reads a text file of at most [`MAX_INPUT_BYTES`]; `what` names it in errors ("policy file").
pub fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    let file = OpenOptions::new()
        .read(true)
        .open(path)
        .map_err(|e| usage(format!("cannot read {what} {}: {}", path.display(), describe(&e))))?;
    read_limited(file).map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))
}

/// Reads a certificate file: PEM (the first `CERTIFICATE` block) as its DER bytes.
pub fn read_certificate_der(path: &Path) -> Result<Vec<u8>, Failure> {
    use base64::Engine as _;
    let text = read_text(path, "certificate file")?;
    let bad = || usage(format!("{}: not a PEM certificate (-----BEGIN CERTIFICATE-----)", path.display()));
    let (_, rest) = text.split_once("-----BEGIN CERTIFICATE-----").ok_or_else(bad)?;
    let (body, _) = rest.split_once("-----END CERTIFICATE-----").ok_or_else(bad)?;
    let body: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| bad())
}

/// The token from the argument, or from stdin when it is `-` or absent (surrounding whitespace
/// on stdin is ignored); never empty.
pub fn token_argument(argument: Option<&str>) -> Result<String, Failure> {
    let token = match argument {
        Some(token) if token != "-" => token.to_owned(),
        _ => read_stdin("token")?.trim().to_owned(),
    };
    if token.is_empty() {
        return Err(usage("no token given: pass it as an argument, or pipe it on stdin"));
    }
    Ok(token)
}

/// Reads stdin (at most [`MAX_INPUT_BYTES`]); refuses to wait on an interactive terminal.
pub fn read_stdin(what: &str) -> Result<String, Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(usage(format!("no {what} given: pass it as an argument, or pipe it on stdin")));
    }
    read_limited(stdin.lock()).map_err(|e| usage(format!("cannot read the {what} from stdin: {e}")))
}

fn read_limited(reader: impl Read) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| describe(&e))?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_INPUT_BYTES) {
        return Err(format!("larger than {MAX_INPUT_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// Writes `text` (and a newline) to a new file; an existing file is replaced only with `force`.
/// `private` files are created readable and writable by their owner only.
pub fn write_file(path: &Path, text: &str, private: bool, force: bool) -> Result<(), Failure> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            usage(format!("{} already exists (use --force to overwrite it)", path.display()))
        } else {
            usage(format!("cannot write {}: {}", path.display(), describe(&e)))
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|e| usage(format!("cannot write {}: {}", path.display(), describe(&e))))
}

/// Prints `text` and a newline on stdout. A closed pipe (`| head`) is not an error worth a message.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Failed(format!("cannot write to stdout: {}", describe(&e)))),
    }
}

/// JSON, indented for people (it is still one JSON document for programs).
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `--now`, or the system clock in Unix seconds.
pub fn now_or_clock(now: Option<i64>) -> Result<i64, Failure> {
    match now {
        Some(now) => Ok(now),
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|elapsed| i64::try_from(elapsed.as_secs()).ok())
            .ok_or_else(|| Failure::Failed("the system clock is before 1970; pass --now".to_owned())),
    }
}

/// An I/O error in words, without the "(os error N)" noise.
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => {
            let text = error.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_bounded_and_must_be_utf8() {
        let limit = usize::try_from(MAX_INPUT_BYTES).unwrap();
        assert_eq!(read_limited(&b"token\n"[..]).unwrap(), "token\n");
        assert_eq!(read_limited(&vec![b'a'; limit][..]).unwrap().len(), limit);
        assert!(read_limited(&vec![b'a'; limit + 1][..]).unwrap_err().contains("larger than"));
        assert_eq!(read_limited(&[0xff, 0xfe][..]).unwrap_err(), "not UTF-8 text");
    }

    #[test]
    fn io_errors_read_as_words() {
        assert_eq!(describe(&io::Error::from(io::ErrorKind::NotFound)), "no such file");
        assert_eq!(describe(&io::Error::from_raw_os_error(28)), "No space left on device");
    }

    #[test]
    fn failures_map_to_exit_codes() {
        assert_eq!(usage("x").exit_code(), 2);
        assert_eq!(Failure::Failed("x".into()).exit_code(), 1);
        assert_eq!(Failure::Fetch("x".into()).exit_code(), 3);
        assert_eq!(now_or_clock(Some(-5)).unwrap(), -5);
        assert!(now_or_clock(None).unwrap() > 1_600_000_000);
    }
}
