//! CDS client authentication (the standard's JWT) for every `/cds-services` call.
//! Pass-through until issue #5 lands: authentication is not enforced yet.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Verifies the client JWT of a hook, discovery or feedback call.
pub async fn verify_cds_client(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    next.call(req).await
}
