use std::process::ExitCode;

use clap::Parser;

/// The service's allocator. A hook call builds and drops thousands of small values; with
/// glibc's malloc, allocating and freeing them took about a third of the call's CPU (README,
/// Performance). Declared here, not in the library, so that the fuzz targets keep the system
/// allocator that `AddressSanitizer` instruments; the benches declare it too (`benches/common`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    match cart_sentinel::cli::run(cart_sentinel::cli::Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
