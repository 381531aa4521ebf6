//! The auth half of an app's server in one value: the rules over a store and a mailer,
//! the API around the server functions, and in development the outbox route. An app
//! makes one [`AuthServer`] at start-up and serves its router through it.

use super::{
    api_layer::{ApiContractLayer, AppContext},
    config::AuthConfig,
    mailer::{DevOutbox, Mailer},
    outbox_route::outbox_route,
    store::{MemoryStore, SessionStore},
    AuthContext, AuthService, SystemClock,
};
use axum::Router;
use std::{sync::Arc, time::Duration};
use tower::Layer;

/// What an app's server needs of auth, made once at start-up: see
/// [`AuthServer::serve`].
#[derive(Clone)]
pub struct AuthServer {
    context: AuthContext,
    outbox: Option<Arc<DevOutbox>>,
}

impl AuthServer {
    /// For development: sessions in memory (gone on restart) and sign-in mails in a
    /// development outbox, logged and listed at `GET /dev/outbox` to clients on this
    /// machine. Never for production: anyone who can read the outbox can sign in as
    /// anyone.
    pub fn development(config: AuthConfig) -> Self {
        let outbox = DevOutbox::new();
        Self::assemble(
            config,
            Arc::new(MemoryStore::new()),
            outbox.clone(),
            Some(outbox),
        )
    }

    /// For production: sessions in `store` (a `RedisStore`, so they survive restarts
    /// and every server sees them) and mails through `mailer` (an `SmtpMailer`).
    pub fn new(config: AuthConfig, store: Arc<dyn SessionStore>, mailer: Arc<dyn Mailer>) -> Self {
        Self::assemble(config, store, mailer, None)
    }

    fn assemble(
        config: AuthConfig,
        store: Arc<dyn SessionStore>,
        mailer: Arc<dyn Mailer>,
        outbox: Option<Arc<DevOutbox>>,
    ) -> Self {
        let service = AuthService::new(store, config, mailer, Arc::new(SystemClock));
        Self {
            context: AuthContext {
                service: Arc::new(service),
                dev_outbox: outbox.is_some(),
            },
            outbox,
        }
    }

    /// The rules, for an app's own handlers (its extractor is
    /// [`Authenticated`](super::Authenticated)).
    pub fn service(&self) -> &Arc<AuthService> {
        &self.context.service
    }

    /// What the server functions read from Leptos context; provide it where the app
    /// renders pages that call them during server rendering.
    pub fn context(&self) -> AuthContext {
        self.context.clone()
    }

    /// `app` with auth mounted: the server functions under `/api/v1` with their HTTP
    /// contract ([`ApiContractLayer`]), and `GET /dev/outbox` in development. Serve the
    /// result with `into_make_service_with_connect_info::<SocketAddr>()`: rate limits
    /// and the outbox need the caller's address.
    pub fn serve(&self, app: Router) -> Router {
        self.serve_with_context(app, Arc::new(|| {}))
    }

    /// Like [`AuthServer::serve`], where `app_context` provides what the app's own
    /// server functions read from Leptos context (a database handle, say).
    pub fn serve_with_context(&self, app: Router, app_context: AppContext) -> Router {
        let app = match &self.outbox {
            Some(outbox) => app.route("/dev/outbox", outbox_route(outbox.clone())),
            None => app,
        };
        let layer = ApiContractLayer::new(self.context.clone(), app_context);
        Router::new().fallback_service(layer.layer(app))
    }

    /// Waits, at most `within`, for sign-in mails already accepted; call it after the
    /// server stopped taking requests. Returns whether all were handed over.
    pub async fn finish_deliveries(&self, within: Duration) -> bool {
        self.context.service.finish_deliveries(within).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, extract::ConnectInfo, http::Request, routing::get};
    use std::net::SocketAddr;
    use tower::ServiceExt;

    fn server() -> AuthServer {
        AuthServer::development(AuthConfig::new("http://127.0.0.1:3000", vec![7; 32]))
    }

    async fn call(app: Router, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = app.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Asks for a link for ada@example.com, and waits until its mail is handed over
    /// (delivery runs in the background; it is done once the server has drained).
    async fn ask_for_a_link(auth: &AuthServer, app: Router) {
        let body = r#"{"email":"ada@example.com"}"#;
        let (status, _) = call(app, "POST", "/api/v1/auth/magic-link", body).await;
        assert_eq!(status, 200);
        assert!(auth.finish_deliveries(Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn a_served_app_keeps_its_routes_and_gains_sign_in_and_the_outbox() {
        let auth = server();
        let app = || auth.serve(Router::new().route("/", get(|| async { "the app" })));
        assert_eq!(call(app(), "GET", "/", "").await, (200, "the app".into()));
        ask_for_a_link(&auth, app()).await;
        let (status, outbox) = call(app(), "GET", "/dev/outbox?to=ada@example.com", "").await;
        assert_eq!(status, 200);
        assert!(
            outbox.contains("http://127.0.0.1:3000/auth/verify?token="),
            "{outbox}"
        );
        let (status, body) = call(app(), "POST", "/api/v1/me", "").await;
        assert_eq!((status, body.contains("unauthorized")), (401, true));
    }

    #[tokio::test]
    async fn production_has_no_outbox_and_links_follow_the_configured_path() {
        let mut config = AuthConfig::new("https://notes.example", vec![7; 32]);
        config.link_path = "/sign-in/finish".into();
        let outbox = DevOutbox::new();
        let auth = AuthServer::new(config, Arc::new(MemoryStore::new()), outbox.clone());
        let app = || auth.serve(Router::new());
        ask_for_a_link(&auth, app()).await;
        assert_eq!(call(app(), "GET", "/dev/outbox", "").await.0, 404);
        let sent = outbox.messages(Some("ada@example.com"));
        assert!(
            sent[0]
                .link
                .starts_with("https://notes.example/sign-in/finish?token="),
            "{}",
            sent[0].link
        );
    }
}
