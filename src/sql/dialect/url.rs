//! Trino's URL functions: the parts of an RFC 3986 URI (`url_extract_host`, `_path`, `_port`,
//! `_protocol`, `_query`, `_fragment`, `_parameter`) and `url_encode`/`url_decode` as
//! `application/x-www-form-urlencoded`.
//!
//! A URI is split as written (Trino reads it with `java.net.URI`): a default port is still
//! the port, an empty path is empty, and text that is not a URI (a space, say) has no parts.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum U {
    Fragment,
    Host,
    Parameter,
    Path,
    Port,
    Protocol,
    Query,
    Encode,
    Decode,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct UrlFn {
    u: U,
    name: &'static str,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (U::Fragment, "url_extract_fragment"),
        (U::Host, "url_extract_host"),
        (U::Parameter, "url_extract_parameter"),
        (U::Path, "url_extract_path"),
        (U::Port, "url_extract_port"),
        (U::Protocol, "url_extract_protocol"),
        (U::Query, "url_extract_query"),
        (U::Encode, "url_encode"),
        (U::Decode, "url_decode"),
    ]
    .into_iter()
    .map(|(u, name)| {
        ScalarUDF::new_from_impl(UrlFn { u, name, signature: Signature::user_defined(Volatility::Immutable) })
    })
    .collect()
}

/// The parts of a URI, as written.
#[derive(Debug, Default, PartialEq)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parts(uri: &str) -> Option<Parts<'_>> {
    // java.net.URI refuses spaces, control characters and a few others outright.
    if uri.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c)) {
        return None;
    }
    let mut p = Parts::default();
    let (rest, fragment) = match uri.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (uri, None),
    };
    p.fragment = fragment;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    p.query = query;
    let rest = match rest.split_once(':') {
        Some((s, r))
            if !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && s.starts_with(|c: char| c.is_ascii_alphabetic()) =>
        {
            p.scheme = Some(s);
            r
        }
        _ => rest,
    };
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find('/').unwrap_or(r.len());
        let authority = &r[..end];
        p.path = &r[end..];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        match host_port.rsplit_once(':') {
            Some((h, port)) if !h.ends_with(']') || host_port.starts_with('[') && h.ends_with(']') => {
                if !port.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                p.host = Some(h).filter(|h| !h.is_empty());
                p.port = Some(port).filter(|port| !port.is_empty());
            }
            _ => p.host = Some(host_port).filter(|h| !h.is_empty()),
        }
    } else {
        p.path = rest;
    }
    Some(p)
}

/// `application/x-www-form-urlencoded`: letters, digits and `.-*_` as they are, a space as
/// `+`, every other byte of the UTF-8 as `%XX`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus).decode_utf8().ok().map(|c| c.into_owned())
}

impl ScalarUDFImpl for UrlFn {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let n = if self.u == U::Parameter { 2 } else { 1 };
        if t.len() != n {
            return plan_err!("{} takes {n} arguments, got {}", self.name, t.len());
        }
        t.iter().map(|t| super::shared::varchar(self.name, t)).collect()
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.u == U::Port { DataType::Int64 } else { DataType::Utf8 })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |a, n| {
            let text = a[0].as_string::<i32>();
            let out: ArrayRef = if self.u == U::Port {
                let mut ports = Vec::with_capacity(n);
                for i in 0..n {
                    let port = text.is_valid(i).then(|| parts(text.value(i))).flatten().and_then(|p| p.port);
                    ports.push(match port.map(str::parse::<i64>) {
                        Some(Ok(p)) => Some(p),
                        Some(Err(_)) => return exec_err!("url_extract_port: not a port in '{}'", text.value(i)),
                        None => None,
                    });
                }
                Arc::new(Int64Array::from(ports))
            } else {
                let out: StringArray = (0..n)
                    .map(|i| {
                        if text.is_null(i) {
                            return None;
                        }
                        let s = text.value(i);
                        match self.u {
                            U::Encode => Some(encode(s)),
                            U::Decode => decode(s),
                            U::Parameter => {
                                let names = a[1].as_string::<i32>();
                                if names.is_null(i) {
                                    return None;
                                }
                                let name = names.value(i);
                                parts(s)?.query?.split('&').find_map(|pair| {
                                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                                    (decode(k).as_deref() == Some(name)).then(|| decode(v)).flatten()
                                })
                            }
                            U::Fragment => parts(s)?.fragment.map(str::to_string),
                            U::Host => parts(s)?.host.map(str::to_string),
                            U::Path => Some(parts(s)?.path.to_string()),
                            U::Protocol => parts(s)?.scheme.map(str::to_string),
                            U::Query => parts(s)?.query.map(str::to_string),
                            U::Port => None,
                        }
                    })
                    .collect();
                Arc::new(out)
            };
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_splits_as_written() {
        let p = parts("http://user@example.com:80/path/data?k1=v1#frag").unwrap();
        assert_eq!(
            p,
            Parts {
                scheme: Some("http"),
                host: Some("example.com"),
                port: Some("80"),
                path: "/path/data",
                query: Some("k1=v1"),
                fragment: Some("frag")
            }
        );
        assert_eq!(parts("https://[::1]:8080/").unwrap().host, Some("[::1]"));
        assert_eq!(parts("mailto:a@b.com").unwrap().path, "a@b.com");
        assert!(parts("not a url").is_none());
        assert_eq!(encode("a b/ç"), "a+b%2F%C3%A7");
        assert_eq!(decode("a+b%2F%C3%A7").as_deref(), Some("a b/ç"));
    }
}
