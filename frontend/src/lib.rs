//! `bi-frontend`: the WASM entry point that hydrates the server-rendered UI.

// NB: the async hydration path (`hydrate_lazy`) nests the whole app's view type
// in one future; computing its layout needs the room.
#![recursion_limit = "512"]

/// Called by the hydration script once the WASM module is loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // NB: most pages are lazy routes (split into their own WASM chunks, see
    // `bi_app::pages`); only the async hydration path can wait for a chunk.
    leptos::mount::hydrate_lazy(bi_app::App);
}
