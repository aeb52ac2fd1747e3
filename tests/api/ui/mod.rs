//! The `/ui/` pages: sign-in, scopes, CSRF and error pages over HTTP (`signin`), and the pages
//! driven in headless Chromium (`browser` is the harness; `seed` fills the worklist).

mod actions_page;
mod browser;
mod quality_page;
mod seed;
mod signin;
mod timeline_page;
mod worklist_page;
