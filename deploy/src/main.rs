fn main() -> std::process::ExitCode {
    cfnkit_deploy::cli::main()
}
