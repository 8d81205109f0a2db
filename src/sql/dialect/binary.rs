//! Trino's functions of a `varbinary`: its spellings as text (hex, base64 and base64's URL
//! alphabet, base32), integers and floating-point numbers as big-endian bytes, and hashes (the
//! cryptographic ones, their HMACs, and xxHash64, MurmurHash3, SpookyHash V2 and CRC-32), each
//! giving Trino's bytes for the same input.
//!
//! Decoders read text or its bytes, as Trino's do, and refuse what does not decode, naming the
//! function and the value.

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::DataType;
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ScalarUDF;
use hmac::{Mac, SimpleHmac};
use sha2::Digest;
use sha2::digest::core_api::BlockSizeUser;

use super::function::{Args, Function, binaries, udf, unary};
use super::shared::{arity, binary};
use super::spooky;

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    let hmacs = [Hmac::Md5, Hmac::Sha1, Hmac::Sha256, Hmac::Sha512].map(udf);
    let mut functions = vec![
        udf(ToHex),
        udf(FromHex),
        udf(ToBase64),
        udf(FromBase64),
        udf(ToBase64Url),
        udf(FromBase64Url),
        udf(ToBase32),
        udf(FromBase32),
        udf(ToBigEndian32),
        udf(FromBigEndian32),
        udf(ToBigEndian64),
        udf(FromBigEndian64),
        udf(ToIeee754Of32),
        udf(FromIeee754Of32),
        udf(ToIeee754Of64),
        udf(FromIeee754Of64),
        udf(Md5),
        udf(Sha1),
        udf(Sha256),
        udf(Sha512),
        udf(Crc32),
        udf(XxHash64),
        udf(Murmur3),
        udf(SpookyHash32),
        udf(SpookyHash64),
    ];
    functions.extend(hmacs);
    functions
}

/// Java's base64 decoder, which Trino's are: padding may be left out, but not be wrong.
const JAVA: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const BASE64: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, JAVA);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, JAVA);

/// Bytes as text for an error message (a decoder's argument may be either).
fn shown(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

unary!(
    /// `to_hex(b)`: upper-case hexadecimal.
    ToHex, "to_hex", binary -> DataType::Utf8, strings, |b| Ok(hex::encode_upper(b))
);
unary!(
    /// `from_hex(s)`: the bytes hexadecimal digits spell, in either case.
    FromHex, "from_hex", bytes -> DataType::Binary, binaries,
    |s| hex::decode(s).or_else(|_| exec_err!("from_hex: invalid hexadecimal '{}'", shown(s)))
);
unary!(
    /// `to_base64(b)`: base64 with padding.
    ToBase64, "to_base64", binary -> DataType::Utf8, strings, |b| Ok(BASE64.encode(b))
);
unary!(
    /// `from_base64(s)`: the bytes base64 spells.
    FromBase64, "from_base64", bytes -> DataType::Binary, binaries,
    |s| BASE64.decode(s).or_else(|_| exec_err!("from_base64: invalid base64 '{}'", shown(s)))
);
unary!(
    /// `to_base64url(b)`: base64 in the URL-safe alphabet (`-` and `_`), with padding.
    ToBase64Url, "to_base64url", binary -> DataType::Utf8, strings, |b| Ok(BASE64_URL.encode(b))
);
unary!(
    /// `from_base64url(s)`: the bytes URL-safe base64 spells.
    FromBase64Url, "from_base64url", bytes -> DataType::Binary, binaries,
    |s| BASE64_URL.decode(s).or_else(|_| exec_err!("from_base64url: invalid base64 '{}'", shown(s)))
);
unary!(
    /// `to_base32(b)`: RFC 4648 base32 with padding.
    ToBase32, "to_base32", binary -> DataType::Utf8, strings, |b| Ok(base32::encode(b))
);
unary!(
    /// `from_base32(s)`: the bytes base32 spells.
    FromBase32, "from_base32", bytes -> DataType::Binary, binaries,
    |s| base32::decode(s).or_else(|e| exec_err!("from_base32: {e} in '{}'", shown(s)))
);
unary!(
    /// `to_big_endian_32(n)`: an `integer`'s four bytes, most significant first.
    ToBigEndian32, "to_big_endian_32", integer -> DataType::Binary, binaries, |n| Ok(n.to_be_bytes())
);
unary!(
    /// `from_big_endian_32(b)`: the `integer` four bytes hold.
    FromBigEndian32, "from_big_endian_32", binary -> DataType::Int32, integers,
    |b| Ok(i32::from_be_bytes(exactly("from_big_endian_32", b)?))
);
unary!(
    /// `to_big_endian_64(n)`: a `bigint`'s eight bytes, most significant first.
    ToBigEndian64, "to_big_endian_64", bigint -> DataType::Binary, binaries, |n| Ok(n.to_be_bytes())
);
unary!(
    /// `from_big_endian_64(b)`: the `bigint` eight bytes hold.
    FromBigEndian64, "from_big_endian_64", binary -> DataType::Int64, ints,
    |b| Ok(i64::from_be_bytes(exactly("from_big_endian_64", b)?))
);
unary!(
    /// `to_ieee754_32(x)`: a `real`'s IEEE 754 bytes, big-endian (every NaN as Java's one NaN).
    ToIeee754Of32, "to_ieee754_32", real -> DataType::Binary, binaries,
    |x| Ok(if x.is_nan() { f32::NAN } else { x }.to_bits().to_be_bytes())
);
unary!(
    /// `from_ieee754_32(b)`: the `real` four big-endian IEEE 754 bytes hold.
    FromIeee754Of32, "from_ieee754_32", binary -> DataType::Float32, reals,
    |b| Ok(f32::from_be_bytes(floating(b)?))
);
unary!(
    /// `to_ieee754_64(x)`: a `double`'s IEEE 754 bytes, big-endian (every NaN as Java's one NaN).
    ToIeee754Of64, "to_ieee754_64", double -> DataType::Binary, binaries,
    |x| Ok(if x.is_nan() { f64::NAN } else { x }.to_bits().to_be_bytes())
);
unary!(
    /// `from_ieee754_64(b)`: the `double` eight big-endian IEEE 754 bytes hold.
    FromIeee754Of64, "from_ieee754_64", binary -> DataType::Float64, doubles,
    |b| Ok(f64::from_be_bytes(floating(b)?))
);
unary!(
    /// `md5(b)`.
    Md5, "md5", binary -> DataType::Binary, binaries, |b| Ok(md5::Md5::digest(b))
);
unary!(
    /// `sha1(b)`.
    Sha1, "sha1", binary -> DataType::Binary, binaries, |b| Ok(sha1::Sha1::digest(b))
);
unary!(
    /// `sha256(b)`.
    Sha256, "sha256", binary -> DataType::Binary, binaries, |b| Ok(sha2::Sha256::digest(b))
);
unary!(
    /// `sha512(b)`.
    Sha512, "sha512", binary -> DataType::Binary, binaries, |b| Ok(sha2::Sha512::digest(b))
);
unary!(
    /// `crc32(b)`: CRC-32 as a `bigint`.
    Crc32, "crc32", binary -> DataType::Int64, ints, |b| Ok(crc32fast::hash(b) as i64)
);
unary!(
    /// `xxhash64(b)`: xxHash64 (seed 0), eight bytes big-endian.
    XxHash64, "xxhash64", binary -> DataType::Binary, binaries,
    |b| Ok(twox_hash::XxHash64::oneshot(0, b).to_be_bytes())
);
unary!(
    /// `murmur3(b)`: MurmurHash3's x64 128-bit hash (seed 0), its two halves little-endian as
    /// airlift writes them.
    Murmur3, "murmur3", binary -> DataType::Binary, binaries,
    |b| Ok(murmur3::murmur3_x64_128(&mut &b[..], 0).expect("a byte slice reads without error").to_le_bytes())
);
unary!(
    /// `spooky_hash_v2_32(b)`: SpookyHash V2's 32-bit hash (seed 0), big-endian.
    SpookyHash32, "spooky_hash_v2_32", binary -> DataType::Binary, binaries,
    |b| Ok((spooky::hash64(b, 0) as u32).to_be_bytes())
);
unary!(
    /// `spooky_hash_v2_64(b)`: SpookyHash V2's 64-bit hash (seed 0), big-endian.
    SpookyHash64, "spooky_hash_v2_64", binary -> DataType::Binary, binaries,
    |b| Ok(spooky::hash64(b, 0).to_be_bytes())
);

/// Exactly `N` bytes of an integer, or Trino's error naming the function and the length it got.
fn exactly<const N: usize>(name: &str, b: &[u8]) -> Result<[u8; N]> {
    match b.try_into() {
        Ok(bytes) => Ok(bytes),
        Err(_) => exec_err!("{name}: expected {N}-byte input, but got instead: {}", b.len()),
    }
}

/// Exactly `N` bytes of a floating-point number, or Trino's error.
fn floating<const N: usize>(b: &[u8]) -> Result<[u8; N]> {
    match b.try_into() {
        Ok(bytes) => Ok(bytes),
        Err(_) => exec_err!("Input floating-point value must be exactly {N} bytes long"),
    }
}

/// `hmac_md5(b, key)`, `hmac_sha1`, `hmac_sha256`, `hmac_sha512`: the keyed hash of the bytes.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Hmac {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Function for Hmac {
    fn name(&self) -> &'static str {
        match self {
            Hmac::Md5 => "hmac_md5",
            Hmac::Sha1 => "hmac_sha1",
            Hmac::Sha256 => "hmac_sha256",
            Hmac::Sha512 => "hmac_sha512",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        t.iter().map(|t| binary(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        match self {
            Hmac::Md5 => hmac::<md5::Md5>(args),
            Hmac::Sha1 => hmac::<sha1::Sha1>(args),
            Hmac::Sha256 => hmac::<sha2::Sha256>(args),
            Hmac::Sha512 => hmac::<sha2::Sha512>(args),
        }
    }
}

/// The HMAC of each row's bytes under its key; a constant key is set up once.
fn hmac<D: Digest + BlockSizeUser + Clone>(args: &Args) -> Result<ArrayRef> {
    let keyed = |key: &[u8]| SimpleHmac::<D>::new_from_slice(key).expect("an HMAC takes a key of any length");
    let data = args.column(0)?;
    let data = data.as_binary::<i32>().iter();
    let mac = |m: SimpleHmac<D>, b: &[u8]| m.chain_update(b).finalize().into_bytes();
    if let Some(key) = args.constant(1) {
        let ScalarValue::Binary(key) = key else { return exec_err!("HMAC key of type {}", key.data_type()) };
        let keyed = key.as_deref().map(keyed);
        return binaries(data.map(|b| Ok(b.zip(keyed.as_ref()).map(|(b, k)| mac(k.clone(), b)))));
    }
    let keys = args.column(1)?;
    let keys = keys.as_binary::<i32>().iter();
    binaries(data.zip(keys).map(|(b, k)| Ok(b.zip(k).map(|(b, k)| mac(keyed(k), b)))))
}

/// RFC 4648's base32, as Guava's `BaseEncoding.base32()` spells and reads it: upper-case
/// letters and `2`-`7`, padded with `=` to whole groups of eight; a decoder takes the padding
/// or not, and refuses other characters and lengths no bytes encode to.
mod base32 {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
        for group in bytes.chunks(5) {
            let mut block = [0u8; 5];
            block[..group.len()].copy_from_slice(group);
            let bits = block.iter().fold(0u64, |bits, &b| (bits << 8) | u64::from(b));
            let digits = (group.len() * 8).div_ceil(5);
            for i in 0..8 {
                let c = if i < digits { ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize] } else { b'=' };
                out.push(c as char);
            }
        }
        out
    }

    pub fn decode(text: &[u8]) -> Result<Vec<u8>, String> {
        let digits = text.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
        let text = &text[..digits];
        // A last group of 1, 3 or 6 digits holds no whole byte.
        if matches!(text.len() % 8, 1 | 3 | 6) {
            return Err(format!("invalid input length {}", text.len()));
        }
        let mut out = Vec::with_capacity(text.len() * 5 / 8);
        let (mut bits, mut held) = (0u64, 0);
        for &c in text {
            let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
                return Err(format!("unrecognized character '{}'", c.escape_ascii()));
            };
            bits = (bits << 5) | v as u64;
            held += 5;
            if held >= 8 {
                held -= 8;
                out.push((bits >> held) as u8);
                bits &= (1 << held) - 1;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648, section 10's test vectors.
    #[test]
    fn base32_is_rfc_4648s() {
        let vectors = [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ];
        for (bytes, text) in vectors {
            assert_eq!(base32::encode(bytes.as_bytes()), text);
            assert_eq!(base32::decode(text.as_bytes()).unwrap(), bytes.as_bytes());
            assert_eq!(base32::decode(text.trim_end_matches('=').as_bytes()).unwrap(), bytes.as_bytes());
        }
        assert_eq!(base32::decode(b"M").unwrap_err(), "invalid input length 1");
        assert!(base32::decode(b"my======").is_err(), "Guava's alphabet is upper-case");
    }

    /// The reference MurmurHash3_x64_128 (seed 0) over the bytes `i % 251`, and Trino's bytes.
    #[test]
    fn murmur3_is_the_references_in_airlifts_byte_order() {
        let hash = |b: &[u8]| hex::encode_upper(murmur3::murmur3_x64_128(&mut &b[..], 0).unwrap().to_le_bytes());
        assert_eq!(hash(b"hashme"), "93192FE805BE23041C8318F67EC4F2BC");
        let message: Vec<u8> = (0..1000).map(|i| (i % 251) as u8).collect();
        assert_eq!(hash(&message), "1CA0A36F4162E1D79E09F173F0C3123A");
    }
}
