//! `bi-frontend`: the WASM entry point that hydrates the server-rendered UI.

/// Called by the hydration script once the WASM module is loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(bi_app::App);
}
