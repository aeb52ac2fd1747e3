//! The frame of every page: a skip link, the header with the service's name, the navigation
//! and who is signed in, the `<main>` landmark with the page's heading, and a footer. The
//! stylesheet's print rules hide the navigation and forms, so a printed page is its content.

use maud::{html, Markup, DOCTYPE};

use super::assets::CSS_URL;

/// The navigation's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/ui/worklist`.
    Worklist,
    /// `/ui/quality`.
    Quality,
}

const NAV: [(Nav, &str, &str); 2] = [
    (Nav::Worklist, "/ui/worklist", "Worklist"),
    (Nav::Quality, "/ui/quality", "Quality"),
];

/// What the frame shows around a page's body.
#[derive(Debug, Clone)]
pub struct Chrome<'a> {
    /// The page's heading and title.
    pub title: &'a str,
    /// Who is signed in (the token's `sub`), when known.
    pub user: Option<&'a str>,
    /// The navigation entry of this page, marked `aria-current`.
    pub current: Option<Nav>,
    /// Whether a sign-out button is shown (development sign-in only: behind a sign-on proxy
    /// the proxy signs out).
    pub sign_out: bool,
}

/// A whole HTML document: the frame with `body` in its `<main>`.
pub fn page(chrome: &Chrome<'_>, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (chrome.title) " · cart-sentinel" }
                link rel="stylesheet" href=(CSS_URL);
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site {
                    a.brand href="/ui/worklist" {
                        "cart-sentinel" span.tagline { "CAR-T monitoring" }
                    }
                    nav aria-label="Main" {
                        ul {
                            @for (entry, href, label) in NAV {
                                li {
                                    a href=(href)
                                        aria-current=[(chrome.current == Some(entry)).then_some("page")]
                                    { (label) }
                                }
                            }
                        }
                    }
                    @if let Some(user) = chrome.user {
                        div.user {
                            span { "Signed in as " strong { (user) } }
                            @if chrome.sign_out {
                                form method="post" action="/ui/sign-out" {
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (chrome.title) }
                    (body)
                }
                footer.site {
                    p { "cart-sentinel · clinical decision support for CAR-T recipients. "
                        "Every view of patient data is audited." }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use maud::html;

    use super::{page, Chrome, Nav};

    #[test]
    fn the_frame_marks_the_current_page_and_escapes_what_it_is_given() {
        let chrome = Chrome {
            title: "Worklist",
            user: Some("<dr. who>"),
            current: Some(Nav::Worklist),
            sign_out: true,
        };
        let text = page(&chrome, &html! { p { "body" } }).into_string();
        assert!(text.contains(r#"<a href="/ui/worklist" aria-current="page">Worklist</a>"#));
        assert!(text.contains(r#"<a href="/ui/quality">Quality</a>"#));
        assert!(text.contains("&lt;dr. who&gt;"), "{text}");
        assert!(text.contains(r##"<a class="skip-link" href="#main">"##));
        assert!(text.contains(r#"action="/ui/sign-out""#));
        assert!(text.contains("<main id=\"main\" tabindex=\"-1\"><h1>Worklist</h1><p>body</p>"));
    }

    #[test]
    fn no_sign_out_behind_a_sign_on_proxy_and_no_user_when_unknown() {
        let chrome = Chrome {
            title: "Sign in",
            user: None,
            current: None,
            sign_out: false,
        };
        let text = page(&chrome, &html! {}).into_string();
        assert!(!text.contains("Signed in as"));
        assert!(!text.contains("sign-out"));
        assert!(!text.contains("aria-current"));
    }
}
