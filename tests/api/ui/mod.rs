//! The `/ui/` pages: sign-in, scopes, CSRF and error pages over HTTP (`signin`), and the pages
//! driven in headless Chromium (`browser`).

mod signin;
