//! The pages under `/ui/` for the people who follow the CAR-T cohort: server-rendered HTML
//! (maud: checked at compile time, every interpolation escaped), one embedded stylesheet, no
//! script needed to read, act or print. Everything here is a pure function from data to
//! [`maud::Markup`], testable without a server; the HTTP side (sign-in, CSRF, the handlers that
//! gather data from the store and audit the read) is `crate::api::ui`.
//!
//! # Adding a page
//!
//! 1. Rendering: a module here with a `pub fn render(..) -> Markup` that takes plain data (store
//!    records, not requests) and returns the page's body; [`layout::page`] wraps it with the
//!    header, navigation, skip link and `<main>`. Use the classes of `style.css`; no inline
//!    `style` attributes (the pages' Content-Security-Policy refuses them) and no script the
//!    page needs in order to work. Charts are SVG with `role="img"`, `<title>`, `<desc>`, text
//!    labels and a table of the same numbers (see `quality`).
//! 2. Handler: a file in `src/api/ui/` whose handler takes [`crate::api::ui::UiUser`], calls
//!    `user.require("<scope>")?` first, reads through the `Store`, writes the audit entry of
//!    any patient data it shows before answering (`crate::api::worklist::audit`, the worklist
//!    API's audit path), and answers `crate::api::ui::html(layout::page(&user.chrome(..), body))`.
//!    Errors are `crate::api::ui::UiError`, rendered as HTML pages (401 sign-in, 403, 400 naming
//!    the field, 503), never an OperationOutcome.
//! 3. Route: one line in `crate::api::ui::configure` (GET pages read; a POST is CSRF-checked by
//!    the scope's middleware and should answer with a `303 See Other` back to a page).
//! 4. Logs: a path that holds a patient id is logged by its route pattern only
//!    (`crate::api::log_span`; `/ui/patients/` is already covered).
//! 5. Tests: rendering in a `#[cfg(test)]` module here; the page in a browser in
//!    `tests/api/ui/` (headless Chromium, axe-core, a screenshot).

pub mod assets;
pub mod chart;
pub mod layout;
pub mod pages;
pub mod quality;
pub mod timeline;
pub mod timeline_chart;
pub mod trends;
pub mod worklist;
