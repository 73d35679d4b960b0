//! `liaison`: the officer command-line tool — profile and enrolment, sending reports, inbox,
//! receipts, offline verification of saved envelopes, the federation authority's commands, and
//! the cryptographic self-demonstration. The commands live in `cli/`; `liaison --help` lists
//! them and the exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
