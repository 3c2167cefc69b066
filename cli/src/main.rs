//! `edgeward`: verify a JWT access token against a policy, make signing keys, mint
//! development tokens, and scan code and history for tokens, from a shell or CI.
//!
//! Exit status: 0 success, 1 a refused token (or a failed operation), 2 bad usage, an
//! unreadable file or an invalid policy, 3 `--fetch-keys` could not get a provider's keys. Every failure is one line on stderr; the token and key
//! material are never part of it.

mod args;
mod check;
mod fetch;
mod io;
mod jwks;
mod keygen;
mod mint;
mod report;
mod scan;
mod usage;
mod verify;

use args::Command;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace (and the panic message is not printed:
    // it could hold input).
    std::panic::set_hook(Box::new(|_| eprintln!("edgeward: internal error (a bug; please report it)")));

    let cli = match usage::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match &cli.command {
        Command::Verify(args) => verify::run(args),
        Command::Check(args) => check::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Mint(args) => mint::run(args),
        Command::Proof(args) => mint::proof(args),
        Command::Report(args) => report::run(args),
        Command::Jwks(args::JwksCommand::Diff(args)) => jwks::diff(args),
        Command::Scan(args) => scan::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("edgeward: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
