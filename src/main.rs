//! The `dap` binary: parse flags, hand over to [`dap::cli::run`], exit with its code.

fn main() {
    std::process::exit(dap::cli::run(std::env::args_os()));
}
