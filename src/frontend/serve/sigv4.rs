//! AWS Signature Version 4, checked: the server computes the signature of the request as it
//! arrived, with the one key pair it knows, through the AWS SDK's own signer (`aws-sigv4`),
//! and compares. A request must be signed by that key, within 15 minutes of its date, over
//! the headers and body it carries.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use hyper::HeaderMap;

use super::protocol::ApiError;

/// How far a request's date may be from the server's clock, as AWS allows.
const SKEW: Duration = Duration::from_secs(15 * 60);

/// The key pair requests must be signed with.
#[derive(Clone)]
pub struct Key {
    /// The access key id.
    pub access_key_id: String,
    /// The secret, never logged.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
struct Authorization<'a> {
    key_id: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse(header: &str) -> Option<Authorization<'_>> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        let (name, value) = part.split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let (key_id, _date, region, service) = (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    Some(Authorization { key_id, region, service, signed_headers: signed?.split(';').collect(), signature: signature? })
}

/// Checks a request's signature against `key`.
pub fn verify(key: &Key, method: &str, uri: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authorization) = header("authorization") else {
        return Err(ApiError::unrecognized_client("Missing Authentication Token: the request is not signed"));
    };
    let auth = parse(authorization)
        .ok_or_else(|| ApiError::unrecognized_client("the Authorization header is not AWS Signature Version 4"))?;
    if auth.key_id != key.access_key_id {
        return Err(ApiError::unrecognized_client("The security token included in the request is invalid."));
    }
    let date = header("x-amz-date").ok_or_else(|| ApiError::invalid_signature("the request has no X-Amz-Date"))?;
    let time = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| ApiError::invalid_signature(format!("X-Amz-Date {date} is not a date")))?
        .and_utc();
    let time = SystemTime::from(time);
    let now = SystemTime::now();
    let skew = now.duration_since(time).or_else(|_| time.duration_since(now)).unwrap_or_default();
    if skew > SKEW {
        return Err(ApiError::invalid_signature(format!(
            "Signature expired: {date} is more than 15 minutes from the server's time"
        )));
    }
    // The signer adds X-Amz-Date (and the session token) itself, from its parameters.
    let signed: Vec<(&str, &str)> = auth
        .signed_headers
        .iter()
        .filter(|name| !matches!(**name, "x-amz-date" | "x-amz-security-token"))
        .map(|name| (*name, header(name).unwrap_or_default()))
        .collect();
    let identity = Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        header("x-amz-security-token").map(str::to_string),
        None,
        "b3lake serve",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(vec!["authorization".into()]);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| ApiError::internal(e.to_string()))?
        .into();
    let request = SignableRequest::new(method, uri, signed.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| ApiError::invalid_signature(e.to_string()))?;
    let output = sign(request, &params).map_err(|e| ApiError::invalid_signature(e.to_string()))?;
    if constant_time_eq(output.signature().as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
             Access Key and signing method.",
        ))
    }
}

/// Compares without returning early, so that timing tells nothing of the right signature.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signs as a client does, with the SDK's signer, then checks.
    fn signed(secret: &str, body: &[u8]) -> HeaderMap {
        let identity = Credentials::new("AKIDEXAMPLE", secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("athena")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers = [
            ("host", "127.0.0.1:9000"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonAthena.ListWorkGroups"),
        ];
        let request = SignableRequest::new("POST", "/", headers.iter().copied(), SignableBody::Bytes(body)).unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut request = hyper::Request::builder().method("POST").uri("/");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut request = request.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        request.headers().clone()
    }

    #[test]
    fn a_signature_of_the_key_passes_and_any_change_fails() {
        let key = Key { access_key_id: "AKIDEXAMPLE".into(), secret_access_key: "secret".into() };
        let headers = signed("secret", b"{}");
        verify(&key, "POST", "/", &headers, b"{}").unwrap();
        let wrong_body = verify(&key, "POST", "/", &headers, b"{\"a\":1}").unwrap_err();
        assert_eq!(wrong_body.kind, "InvalidSignatureException");
        let wrong_secret = verify(&key, "POST", "/", &signed("other", b"{}"), b"{}").unwrap_err();
        assert_eq!(wrong_secret.kind, "InvalidSignatureException");
        let other = Key { access_key_id: "AKIDOTHER".into(), ..key.clone() };
        assert_eq!(verify(&other, "POST", "/", &headers, b"{}").unwrap_err().kind, "UnrecognizedClientException");
        assert_eq!(
            verify(&key, "POST", "/", &HeaderMap::new(), b"{}").unwrap_err().kind,
            "UnrecognizedClientException"
        );
        assert!(!format!("{key:?}").contains("secret"), "the secret is never shown");
    }
}
