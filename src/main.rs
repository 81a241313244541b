//! `cargo run --release`: the suite against the configured targets, or against the
//! built-in reference targets as shipped when nothing is configured.

use sessiondrill::refapp::Posture;

#[tokio::main]
async fn main() {
    let code = sessiondrill::cli::main_with(Posture::AsShipped).await;
    std::process::exit(code);
}
