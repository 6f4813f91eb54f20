//! The `bi` binary: parses the command line and hands over to `bi_server`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    bi_server::cli::run(bi_server::cli::Cli::parse())
}
