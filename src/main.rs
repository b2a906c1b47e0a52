//! The `glassbox` command-line tool: a thin layer over the library (see `glassbox --help`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
