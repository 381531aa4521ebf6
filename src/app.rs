//! The HTML shell, `<App/>` and its pages.

use crate::{
    auth::{actions, state::AuthState},
    components::{guard::AuthRedirects, header::Header},
    nav::{self, Location},
    pages::{
        home::HomePage, login::LoginPage, not_found::NotFound, sessions::SessionsPage,
        verify::VerifyPage,
    },
};
use leptos::{either::EitherOf5, prelude::*};

/// The document around the app (server rendering).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options) />
                <title>"stay-signed-in"</title>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Where cargo-leptos writes the content hashes of a `hash-files` build: beside the
/// server binary.
#[cfg(feature = "ssr")]
pub fn hash_file(options: &LeptosOptions) -> std::path::PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default()
        .join(options.hash_file.as_ref())
}

/// The stylesheet's address: `/pkg/<name>.css`, or with its content hash in the name
/// when the build hashed its files (read once from the hash file).
fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    #[cfg(feature = "ssr")]
    if options.hash_files {
        static CSS_HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let hash = CSS_HASH.get_or_init(|| {
            let hashes = std::fs::read_to_string(hash_file(options)).ok()?;
            hashes.lines().find_map(|line| {
                let (file, hash) = line.split_once(':')?;
                (file.trim() == "css").then(|| hash.trim().to_string())
            })
        });
        if let Some(hash) = hash {
            return format!("/{pkg}/{name}.{hash}.css");
        }
    }
    format!("/{pkg}/{name}.css")
}

/// The application: auth state, header, routes.
#[component]
pub fn App() -> impl IntoView {
    let auth = AuthState::new();
    provide_context(auth);
    // Effects run only in the browser, after hydration: tokens are read there.
    Effect::new(move |_| actions::start(auth));

    let location = Location::current();
    provide_context(location);
    nav::follow_links(location);
    let page = Memo::new(move |_| location.path.with(|path| Page::at(path)));

    view! {
        <AuthRedirects />
        <Header />
        <main class="container" id="main">
            {move || match page.get() {
                Page::Home => EitherOf5::A(view! { <HomePage /> }),
                Page::Login => EitherOf5::B(view! { <LoginPage /> }),
                Page::Verify => EitherOf5::C(view! { <VerifyPage /> }),
                Page::Sessions => EitherOf5::D(view! { <SessionsPage /> }),
                Page::NotFound => EitherOf5::E(view! { <NotFound /> }),
            }}
        </main>
    }
}

/// The app's pages, by path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Page {
    /// `/`: the landing page, or the dashboard when signed in.
    Home,
    /// `/login`: the sign-in form.
    Login,
    /// `/auth/verify`: the sign-in link's "Sign in" button.
    Verify,
    /// `/sessions`: the person's devices.
    Sessions,
    /// Anything else.
    NotFound,
}

impl Page {
    /// Every page's path: the server renders the app at these (at any other path the
    /// files fallback renders it too, as [`Page::NotFound`], which answers 404).
    pub const ROUTES: [(&'static str, Page); 4] = [
        ("/", Page::Home),
        ("/login", Page::Login),
        ("/auth/verify", Page::Verify),
        ("/sessions", Page::Sessions),
    ];

    /// The page at `path`.
    pub fn at(path: &str) -> Self {
        Self::ROUTES
            .iter()
            .find(|(route, _)| *route == path)
            .map_or(Self::NotFound, |(_, page)| *page)
    }
}
