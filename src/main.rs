//! Server entry (ssr): configuration -> state -> router -> serve.

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// objects on several server threads, where glibc's arenas contend on their locks.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A single-threaded runtime: this thread serves alongside the ones
/// `Application::run_until` starts, each with a runtime of its own (`http/threads.rs`).
#[cfg(feature = "ssr")]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    use leptos::prelude::get_configuration;
    use stay_signed_in::{config::Config, http::Application};
    use std::process::ExitCode;
    use tracing_subscriber::{fmt, EnvFilter};

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("stay-signed-in cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        stay_signed_in::config::LogFormat::Text => fmt().with_env_filter(filter).init(),
        stay_signed_in::config::LogFormat::Json => fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
    }
    let mut leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("stay-signed-in cannot start: Leptos configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    if leptos_options.output_name.is_empty() {
        leptos_options.output_name = env!("CARGO_PKG_NAME").into();
    }
    // A build with hashed file names leaves its hash file beside the binary; use the
    // hashed names whenever it is there, however the server was started.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = stay_signed_in::app::hash_file(&leptos_options).is_file();
    }
    let app = match Application::build(config, leptos_options).await {
        Ok(app) => app,
        Err(error) => {
            let error = stay_signed_in::auth::server::failure::Chain(&error);
            eprintln!("stay-signed-in cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    if let Some(addr) = app.metrics_addr() {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser entry point is `hydrate()` in lib.rs.
}
