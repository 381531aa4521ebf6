//! `#[redis_test]`, for the tests of stay-signed-in that need a Redis: a plain
//! `cargo test` without one runs everything else and names each test it skipped.

use proc_macro::TokenStream;
use quote::quote;

/// A `#[tokio::test]` (with the same arguments) that first asks
/// `test_support::redis::skipped` whether the test Redis is configured, and returns at
/// once, saying so on stderr, when it is not. (`./scripts/test` sets
/// `TESTS_REQUIRE_REDIS`, which turns a missing Redis into a failure instead.)
#[proc_macro_attribute]
pub fn redis_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let mut function = syn::parse_macro_input!(item as syn::ItemFn);
    let name = function.sig.ident.to_string();
    let body = &function.block;
    function.block = syn::parse_quote!({
        if ::test_support::redis::skipped(
            concat!(module_path!(), "::", #name),
            ::test_support::redis::test_store_variable(),
        ) {
            return;
        }
        #body
    });
    let attribute = if args.is_empty() {
        quote!(#[::tokio::test])
    } else {
        quote!(#[::tokio::test(#args)])
    };
    quote!(#attribute #function).into()
}
