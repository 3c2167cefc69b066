//! Command-line parsing with clap, turning its usage errors into one clear line (exit 2) while
//! `--help` and `--version` print as usual (exit 0).

use crate::args::Cli;
use clap::Parser;
use clap::error::ErrorKind;
use std::ffi::OsString;
use std::process::ExitCode;

const SUBCOMMANDS: [&str; 8] = ["verify", "check", "keygen", "mint", "proof", "report", "jwks", "scan"];

/// Parses the arguments, or prints help, version or a one-line error and gives the exit status.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, ExitCode> {
    let args: Vec<OsString> = args.into_iter().collect();
    // Point the reader at the help of the subcommand they were typing, if any.
    let help = match args.iter().skip(1).find_map(|a| a.to_str().filter(|a| SUBCOMMANDS.contains(a))) {
        Some(command) => format!("edgeward {command} --help"),
        None => "edgeward --help".to_owned(),
    };
    match Cli::try_parse_from(args) {
        Ok(cli) => Ok(cli),
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                // Printing can only fail on a closed stdout; there is nothing left to tell then.
                let _ = error.print();
                Err(ExitCode::SUCCESS)
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = error.print();
                Err(ExitCode::from(2))
            }
            _ => {
                eprintln!("edgeward: {} (see {help})", one_line(&error.render().to_string()));
                Err(ExitCode::from(2))
            }
        },
    }
}

/// clap's error text in one line: the message and its details, without the usage block.
fn one_line(rendered: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line);
        }
    }
    let text = parts.join(" ").replace(" tip: ", "; tip: ");
    text.strip_prefix("error: ").unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_the_usage_block() {
        let rendered = "error: the following required arguments were not provided:\n  --policy <FILE>\n\n\
                        Usage: edgeward verify --policy <FILE> [TOKEN]\n\nFor more information, try '--help'.\n";
        assert_eq!(one_line(rendered), "the following required arguments were not provided: --policy <FILE>");
    }
}
