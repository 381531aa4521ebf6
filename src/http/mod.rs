//! The HTTP server (ssr build only): state, router, the layers around the API, and the
//! plain axum routes (probes, `/login`, `/api/v1/openapi.json`, `/dev/outbox`).
//!
//! Startup is testable: [`Application::build`] binds (port 0 works) and remembers the
//! real address; [`Application::run_until_stopped`] serves.

mod access_log;
mod assets;
mod client_ip;
mod health;
mod login_form;
mod metrics;
mod openapi;
mod request_id;
mod security_headers;
mod shed;
mod state;
mod threads;

pub use state::AppState;

use crate::{
    app::{shell, Page},
    auth::server::{
        api_layer::{ApiContractLayer, AppContext},
        mailer::{DevOutbox, MailError, Mailer, SmtpMailer},
        outbox_route,
        store::{MemoryStore, RedisStore, SessionStore, StoreError},
        AuthContext, AuthService, SystemClock,
    },
    config::Config,
    notes::server::{MemoryNotes, NoteStore, Notes, RedisNotes},
};
use axum::{
    routing::{get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configured store cannot be set up (e.g. an unusable `REDIS_URL`).
    #[error("the session store cannot be set up")]
    Store(#[source] StoreError),
    /// The configured mailer cannot be set up (e.g. an unusable `SMTP_URL`).
    #[error("the mailer cannot be set up")]
    Mailer(#[source] MailError),
    /// The configuration does not fit where the server listens (`APP_ENV` unset on an
    /// address others can reach).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Production on a Redis that may lose writes (no `appendonly yes`), not allowed.
    #[error(
        "the session store does not write every change to disk: a Redis restart would bring \
         ended sessions back and forget current sign-ins. Run Redis with `appendonly yes` \
         (on every Cluster master), or set ALLOW_LOST_REVOCATIONS=true to accept that risk"
    )]
    NotPersistent,
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How long a stopping server waits for sign-in mails it already accepted.
pub const MAIL_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound, ready-to-serve server.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    service: Arc<AuthService>,
    /// The metrics listener and its router, when `METRICS_ADDR` is set.
    metrics: Option<(tokio::net::TcpListener, Router)>,
    /// How many threads serve (`SERVER_THREADS`).
    threads: std::num::NonZeroUsize,
    /// `HEADER_READ_TIMEOUT`: how long a connection may take to send a request's headers.
    header_read_timeout: Duration,
}

impl Application {
    /// Builds the state from `config`, the router, and binds `leptos_options.site_addr`.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartError> {
        let addr = leptos_options.site_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let check_persistence = !config.is_development() && !config.allow_lost_revocations;
        let app = Self::on_listener(config, leptos_options, listener)?;
        if check_persistence {
            app.check_persistence().await?;
        }
        Ok(app)
    }

    /// Refuses a production start on a store that may lose writes. A store that cannot
    /// be asked now (Redis still down: the app may start before it) is logged, not
    /// refused.
    async fn check_persistence(&self) -> Result<(), StartError> {
        match self.service.store().persists_writes().await {
            Ok(Some(false)) => Err(StartError::NotPersistent),
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(
                    error = %crate::auth::server::failure::Chain(&error),
                    "could not read the store's persistence settings at start; make sure \
                     Redis runs with appendonly yes"
                );
                Ok(())
            }
        }
    }

    /// Like [`Application::build`], on a listener the caller bound (tests bind port 0
    /// first, so `PUBLIC_URL` can name the real port; no bind-then-release race).
    pub fn on_listener(
        config: Config,
        leptos_options: LeptosOptions,
        listener: tokio::net::TcpListener,
    ) -> Result<Self, StartError> {
        let metrics = match config.metrics_addr {
            Some(addr) => {
                let bind = |addr| {
                    let listener = std::net::TcpListener::bind(addr)?;
                    listener.set_nonblocking(true)?;
                    tokio::net::TcpListener::from_std(listener)
                };
                let listener = bind(addr).map_err(|source| StartError::Bind { addr, source })?;
                Some((listener, metrics::router(metrics::recorder())))
            }
            None => None,
        };
        if let Ok(addr) = listener.local_addr() {
            config.check_listener(addr)?;
        }
        let threads = config.server_threads;
        let header_read_timeout = config.header_read_timeout;
        let state = build_state(config, leptos_options)?;
        Ok(Self {
            threads,
            header_read_timeout,
            listener,
            service: state.auth.service.clone(),
            router: router(state),
            metrics,
        })
    }

    /// How the threads serve connections.
    fn serving(&self) -> threads::Serving {
        threads::Serving {
            threads: self.threads,
            header_read_timeout: self.header_read_timeout,
        }
    }

    /// The address `GET /metrics` listens on, when metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until Ctrl-C / SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves on `SERVER_THREADS` threads (see `threads.rs`) until `shutdown` completes:
    /// stops accepting, finishes the requests in flight, then waits (at most
    /// [`MAIL_DRAIN_TIMEOUT`]) for sign-in mails already accepted. Tests pass a future of
    /// their own instead of the process's signals.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let serving = self.serving();
        let metrics = self.metrics.map(|(listener, router)| {
            tokio::spawn(async move { axum::serve(listener, router).await })
        });
        let service = self.service.clone();
        let drain = move || {
            let service = service.clone();
            async move {
                service.finish_deliveries(MAIL_DRAIN_TIMEOUT).await;
            }
        };
        let served = threads::serve(self.listener, self.router, serving, shutdown, drain).await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        tracing::info!("stopped accepting requests; finishing sign-in mails");
        if !self.service.finish_deliveries(MAIL_DRAIN_TIMEOUT).await {
            tracing::error!(
                "sign-in mails still undelivered after {MAIL_DRAIN_TIMEOUT:?}; stopping anyway"
            );
        }
        served
    }
}

/// Chooses the store and mailer the configuration asks for.
pub fn build_state(config: Config, leptos_options: LeptosOptions) -> Result<AppState, StartError> {
    let redis = match &config.redis_url {
        Some(url) => {
            tracing::info!(
                "session store: Redis (sessions survive restarts when Redis persists them)"
            );
            Some(
                RedisStore::new(url, &config.redis_key_prefix, config.redis_ca.as_deref())
                    .map_err(StartError::Store)?,
            )
        }
        None if !config.redis_cluster_nodes.is_empty() => {
            tracing::info!(
                nodes = config.redis_cluster_nodes.len(),
                "session store: Redis Cluster"
            );
            Some(
                RedisStore::cluster(
                    &config.redis_cluster_nodes,
                    &config.redis_key_prefix,
                    config.redis_ca.as_deref(),
                )
                .map_err(StartError::Store)?,
            )
        }
        None => None,
    };
    // The notes live where the sessions do: in their Redis, or in memory.
    let (store, note_store): (Arc<dyn SessionStore>, Arc<dyn NoteStore>) = match redis {
        Some(redis) => {
            let redis = Arc::new(redis);
            (redis.clone(), Arc::new(RedisNotes::new(redis)))
        }
        None => {
            tracing::warn!(
                "session store: in-memory (REDIS_URL is unset); sessions will not survive a restart"
            );
            (Arc::new(MemoryStore::new()), Arc::new(MemoryNotes::new()))
        }
    };
    let (mailer, outbox): (Arc<dyn Mailer>, Option<Arc<DevOutbox>>) = match &config.smtp_url {
        Some(url) => (
            Arc::new(SmtpMailer::new(url, &config.mail_from).map_err(StartError::Mailer)?),
            None,
        ),
        None => {
            tracing::info!("mail: development outbox (links in this log and at GET /dev/outbox)");
            let outbox = DevOutbox::new();
            (outbox.clone(), Some(outbox))
        }
    };
    if config.jwt_secret_generated {
        tracing::warn!("JWT_SECRET is unset: using a random secret; tokens end with this process");
    }
    let outbox = outbox.filter(|_| config.is_development());
    let service = Arc::new(AuthService::new(
        store,
        config.auth.clone(),
        mailer,
        Arc::new(SystemClock),
    ));
    let notes = Arc::new(Notes::new(note_store, Arc::new(SystemClock)));
    Ok(AppState {
        leptos_options: Arc::new(leptos_options),
        auth: AuthContext {
            service,
            dev_outbox: outbox.is_some(),
        },
        notes,
        outbox,
        config: Arc::new(config),
    })
}

/// The pages the server renders (unknown paths get the app's 404 page from the files
/// fallback). The app has no route tree to read them from: [`Page`] lists them.
fn page_routes() -> Vec<AxumRouteListing> {
    Page::ROUTES
        .iter()
        .map(|(path, _)| {
            AxumRouteListing::new(
                (*path).to_owned(),
                leptos_router::SsrMode::default(),
                [leptos_router::Method::Get],
                vec![],
            )
        })
        .collect()
}

/// The whole router: the Leptos app and server functions, plus the plain routes.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let leptos_options = LeptosOptions::clone(&state.leptos_options);
    let page_context = {
        let auth_context = state.auth.clone();
        move || {
            provide_context(auth_context.clone());
            security_headers::page_policy();
        }
    };
    let trusted_proxies: std::sync::Arc<[ipnet::IpNet]> =
        state.config.trusted_proxies.clone().into();
    let public_url = state.config.auth.public_url.clone();
    let max_requests = state.config.max_concurrent_requests;
    let mut router = Router::new()
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/healthz", get(health::readyz))
        .route("/login", post(login_form::submit))
        .route("/api/v1/openapi.json", get(openapi::document))
        .leptos_routes_with_context(&state, routes, page_context.clone(), move || {
            shell(leptos_options.clone())
        });
    if let Some(outbox) = &state.outbox {
        router = router.route("/dev/outbox", outbox_route(outbox.clone()));
    }
    // Files (and the 404 page): the only answers that are compressed and cached, so
    // API calls and pages never pass those layers.
    let files = Router::new()
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context, shell))
        .layer(axum::middleware::from_fn(assets::cache_control))
        .layer(assets::compression())
        .with_state(state.clone());
    let context = state.auth.clone();
    let app_context: AppContext = {
        let notes = state.notes.clone();
        Arc::new(move || provide_context(notes.clone()))
    };
    let app = router.fallback_service(files).with_state(state);
    // One typed stack around the whole router, boxed once: `Router::layer` would box
    // each layer around every route again, and each box is cloned on every request.
    // A request passes the request id, the access log (when on), the client address, the
    // security headers, load shedding, then the API contract; the answer goes back the
    // same way.
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(
            request_id::SequentialRequestId::new(),
        ))
        .option_layer(access_log::layer())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(client_ip::layer(trusted_proxies))
        .layer(security_headers::layer(&public_url))
        .layer(shed::ShedLayer::new(max_requests))
        .layer(ApiContractLayer::new(context, app_context));
    Router::new().fallback_service(layers.service(app))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
