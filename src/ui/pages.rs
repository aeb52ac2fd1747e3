//! The pages every other page can lead to: signing in, and the error pages (a browser gets a
//! readable page where the JSON APIs answer an OperationOutcome).

use maud::{html, Markup};

/// The scopes the development sign-in offers, with what each allows.
pub const DEV_SCOPES: [(&str, &str); 4] = [
    ("worklist:read", "read the worklist and patients' timelines"),
    (
        "worklist:write",
        "act on findings (acknowledge, snooze, contacted)",
    ),
    ("rules:read", "read the quality report"),
    ("audit:read", "read the audit log"),
];

/// The body of the sign-in page. `dev`: the development sign-in form (a token signed with the
/// development key); otherwise how sign-in works in this deployment. `next` is where the form
/// returns to (a `/ui/` path).
pub fn sign_in(dev: bool, next: &str) -> Markup {
    html! {
        @if dev {
            p { "Development mode: sign in with the service's development key, as "
                code { "cart-sentinel admin token" } " does. The token lasts one hour." }
            form.sign-in method="post" action="/ui/sign-in" {
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="sub" { "Name recorded in the audit log" }
                    input #sub type="text" name="sub" value="developer" required
                        maxlength="100" autocomplete="username";
                }
                fieldset {
                    legend { "Scopes" }
                    @for (scope, what) in DEV_SCOPES {
                        div.check {
                            input type="checkbox" name="scope" value=(scope) id=(scope) checked;
                            label for=(scope) { code { (scope) } ": " (what) }
                        }
                    }
                }
                button type="submit" { "Sign in" }
            }
        } @else {
            p { "These pages are reached through your organisation's single sign-on, which "
                "passes its access token to this service. Open them from the sign-on portal's "
                "link, or sign in there again if your session has ended." }
        }
    }
}

/// The body of an error page: what happened and what to do.
pub fn error(message: &str, hint: Option<Markup>) -> Markup {
    html! {
        p.error-message role="alert" { (message) }
        @if let Some(hint) = hint { (hint) }
        p { a href="/ui/worklist" { "Back to the worklist" } }
    }
}

#[cfg(test)]
mod tests {
    use super::{error, sign_in};

    #[test]
    fn the_development_form_returns_to_the_page_asked_for() {
        let text = sign_in(true, "/ui/quality?x=\"1\"").into_string();
        assert!(text.contains(r#"action="/ui/sign-in""#));
        assert!(text.contains(r#"name="next" value="/ui/quality?x=&quot;1&quot;""#));
        assert_eq!(text.matches(r#"type="checkbox""#).count(), 4);
    }

    #[test]
    fn production_has_no_form() {
        let text = sign_in(false, "/ui/worklist").into_string();
        assert!(!text.contains("<form"));
        assert!(text.contains("single sign-on"));
    }

    #[test]
    fn an_error_is_announced() {
        let text = error("rule: unknown", None).into_string();
        assert!(text.contains(r#"<p class="error-message" role="alert">rule: unknown</p>"#));
    }
}
