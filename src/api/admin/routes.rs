//! Admin routes and their OpenAPI document from one source: each handler's `#[utoipa::path]`
//! attribute. [`Routes::add`] registers the handler under exactly the method and path that
//! attribute names and adds the same operation to the document, so the admin API has no route
//! without documentation and no documentation without a route. Routes of one path share one
//! actix resource, so another method on a known path is answered 405.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};
use utoipa::openapi::path::{HttpMethod, Paths};

/// The admin routes being registered, and their documented operations.
#[derive(Default)]
pub struct Routes {
    resources: Vec<(String, Vec<Route>)>,
    paths: Paths,
}

fn actix_method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

impl Routes {
    /// Registers `handler` where its documentation `_doc` (the `__path_<handler>` value the
    /// `#[utoipa::path]` attribute generates) says, and documents it.
    pub fn add<P, F, Args>(&mut self, _doc: P, handler: F) -> &mut Self
    where
        P: utoipa::Path,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = P::path();
        let methods = P::methods();
        for m in &methods {
            let route = web::method(actix_method(m)).to(handler.clone());
            match self.resources.iter_mut().find(|(p, _)| *p == path) {
                Some((_, routes)) => routes.push(route),
                None => self.resources.push((path.clone(), vec![route])),
            }
        }
        self.paths
            .add_path_operation(&path, methods, P::operation());
        self
    }

    /// The documented operations.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The actix resources, one per path.
    pub fn into_services(self) -> Vec<impl HttpServiceFactory> {
        self.resources
            .into_iter()
            .map(|(path, routes)| {
                routes
                    .into_iter()
                    .fold(web::resource(path), actix_web::Resource::route)
            })
            .collect()
    }
}
