//! `cargo run -- synth`: the order platform's command line.

fn main() -> std::process::ExitCode {
    cfnkit::cli::main(stacks::app)
}
