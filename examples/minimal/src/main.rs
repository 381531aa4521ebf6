#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    use axum::Router;
    use leptos::logging::log;
    use leptos::prelude::*;
    use leptos_axum::{generate_route_list, LeptosRoutes};
    use minimal::app::*;
    use stay_signed_in_auth::{AuthConfig, AuthServer};

    let conf = get_configuration(None).unwrap();
    let addr = conf.leptos_options.site_addr;
    let leptos_options = conf.leptos_options;
    // Generate the list of routes in your Leptos App
    let routes = generate_route_list(App);

    // Sign-in: sessions in memory, links in the development outbox (GET /dev/outbox).
    // Production: AuthServer::new(config, a RedisStore, an SmtpMailer).
    let mut config = AuthConfig::with_random_secret(&format!("http://{addr}"));
    if let Some(seconds) = std::env::var("ACCESS_TOKEN_TTL_SECS").ok() {
        config.access_ttl = std::time::Duration::from_secs(seconds.parse().unwrap());
    }
    let auth = AuthServer::development(config);

    let app = Router::new()
        .leptos_routes(&leptos_options, routes, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);
    let app = auth.serve(app);

    // run our app with hyper
    // `axum::Server` is a re-export of `hyper::Server`
    log!("listening on http://{}", &addr);
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await.unwrap();
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // no client-side main function
    // unless we want this to work with e.g., Trunk for pure client-side testing
    // see lib.rs for hydration function instead
}
