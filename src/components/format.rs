//! Human-readable times (browser locale). Protected data is only rendered in the browser,
//! so the server build never formats a real time.

/// A Unix-ms time as local date and time, e.g. "28/11/2026, 18:47:51".
pub fn date_time(ms: f64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
        String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        String::new()
    }
}

/// A Unix-ms time as local time of day, e.g. "18:47:51".
pub fn time_of_day(ms: f64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
        String::from(date.to_locale_time_string("en-GB"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        String::new()
    }
}
