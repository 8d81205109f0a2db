//! Trino's URL functions: the parts of an RFC 3986 URI (`url_extract_host`, `_path`, `_port`,
//! `_protocol`, `_query`, `_fragment`, `_parameter`) and `url_encode`/`url_decode` as
//! `application/x-www-form-urlencoded`.
//!
//! A URI is split as Trino's `java.net.URI` splits it: a default port is still the port, a
//! part the URI lacks is empty (its port NULL), an opaque URI (`mailto:a@b.com`) has a scheme
//! and a fragment only, the path, query and fragment are read with their `%XX` escapes decoded,
//! and text that is not a URI (a space, a malformed escape) has no parts: NULL.

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::function::{Args, Function, Text, strings, udf, unary};
use super::shared::{arity, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    let mut out = vec![udf(Port), udf(Parameter), udf(Encode), udf(Decode)];
    out.extend([Part::Fragment, Part::Host, Part::Path, Part::Protocol, Part::Query].map(udf));
    out
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
    // Every `%` opens an escape of two hex digits ("Malformed escape pair" otherwise).
    let mut escapes = uri.match_indices('%').map(|(i, _)| uri.get(i + 1..i + 3));
    if !escapes.all(|e| e.is_some_and(|e| e.bytes().all(|b| b.is_ascii_hexdigit()))) {
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
    // Opaque: after the scheme, no `/`; the rest is one part, no path, query or authority.
    if p.scheme.is_some() && !rest.starts_with('/') {
        p.query = None;
        return Some(p);
    }
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

unary!(
    /// `url_encode(s)`.
    Encode, "url_encode", varchar -> DataType::Utf8, strings, |s| Ok(encode(s))
);
unary!(
    /// `url_decode(s)`: NULL when the bytes are not UTF-8.
    Decode, "url_decode", varchar -> DataType::Utf8, strings, nullable |s| Ok(decode(s))
);

/// `url_extract_fragment`, `_host`, `_path`, `_protocol`, `_query`: a part of the URI as written.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Part {
    Fragment,
    Host,
    Path,
    Protocol,
    Query,
}

impl Function for Part {
    fn name(&self) -> &'static str {
        match self {
            Self::Fragment => "url_extract_fragment",
            Self::Host => "url_extract_host",
            Self::Path => "url_extract_path",
            Self::Protocol => "url_extract_protocol",
            Self::Query => "url_extract_query",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![varchar(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        // java.net.URI's getters: the path, query and fragment decoded, a missing part empty.
        fn part(f: &Part, p: Parts<'_>) -> String {
            let decoded = |s: Option<&str>| {
                s.map_or_else(String::new, |s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            };
            match f {
                Part::Fragment => decoded(p.fragment),
                Part::Host => p.host.unwrap_or_default().to_string(),
                Part::Path => decoded(Some(p.path)),
                Part::Protocol => p.scheme.unwrap_or_default().to_string(),
                Part::Query => decoded(p.query),
            }
        }
        let uris = args.column(0)?;
        strings(uris.as_string::<i32>().iter().map(|u| Ok(u.and_then(parts).map(|p| part(self, p)))))
    }
}

unary!(
    /// `url_extract_port(uri)`.
    Port, "url_extract_port", varchar -> DataType::Int64, ints,
    nullable |u| match parts(u).and_then(|p| p.port) {
        Some(p) => p.parse::<i64>().map(Some).or_else(|_| exec_err!("url_extract_port: not a port: '{p}' in '{u}'")),
        None => Ok(None),
    }
);

/// `url_extract_parameter(uri, name)`: the first value of the query's parameter `name`, decoded.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Parameter;

impl Function for Parameter {
    fn name(&self) -> &'static str {
        "url_extract_parameter"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        t.iter().map(|t| varchar(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (uris, names) = (Text::new(args, 0)?, Text::new(args, 1)?);
        strings((0..args.rows).map(|i| {
            let (Some(uri), Some(name)) = (uris.get(i), names.get(i)) else { return Ok(None) };
            Ok(parts(uri).and_then(|p| p.query).and_then(|q| {
                q.split('&').find_map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k).as_deref() == Some(name)).then(|| decode(v)).flatten()
                })
            }))
        }))
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
        assert_eq!(
            parts("mailto:a@b.com?x=1#f").unwrap(),
            Parts { scheme: Some("mailto"), fragment: Some("f"), ..Default::default() }
        );
        assert_eq!(parts("foo").unwrap().path, "foo");
        assert!(parts("http://x/%4").is_none());
        assert!(parts("http://x/%zz").is_none());
        assert!(parts("not a url").is_none());
        assert_eq!(encode("a b/ç"), "a+b%2F%C3%A7");
        assert_eq!(decode("a+b%2F%C3%A7").as_deref(), Some("a b/ç"));
    }
}
