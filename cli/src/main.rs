//! The `rally` binary: see the library.

use clap::Parser;

fn main() {
    let cli = rally_cli::Cli::parse();
    if let Some(region) = &cli.region {
        // Before any thread exists: the AWS clients read the region from here.
        unsafe { std::env::set_var("AWS_REGION", region) };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let code = runtime.block_on(rally_cli::run(cli)).unwrap_or_else(|err| {
        eprintln!("rally: {err}");
        1
    });
    std::process::exit(code);
}
