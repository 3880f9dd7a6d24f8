//! Compact JWS (RFC 7515) with ES256 and HS256 (RFC 7518 §3.2 and §3.4), and
//! P-256 public keys as JWK (RFC 7517, RFC 7518 §6.2).
//!
//! The verifier is deliberately narrow: the caller names the one algorithm
//! it expects, so `none` and algorithm confusion (an HS256 token checked
//! with a public key as the HMAC key) cannot happen. ES256 signatures are
//! the raw 64-byte `r || s` of RFC 7518 §3.4; DER signatures are rejected.
//! Every base64url part must be canonical and unpadded, the header must be a
//! JSON object without duplicate members, and a `crit` header is rejected
//! because no extension is supported.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Maximum length in bytes of a compact JWS accepted by the decoder. The
/// largest token Valise reads is a trust list of a few hundred members,
/// well below this; the bound stops oversized input before decoding.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Length in bytes of an ES256 signature: `r || s`, 32 bytes each
/// (RFC 7518 §3.4).
pub const ES256_SIGNATURE_LEN: usize = 64;

/// Minimum HS256 key length in bytes: RFC 7518 §3.2 requires a key at least
/// as long as the hash output.
pub const HS256_MIN_KEY_LEN: usize = 32;

/// The `alg` value of ECDSA P-256 with SHA-256.
pub const ALG_ES256: &str = "ES256";

/// The `alg` value of HMAC-SHA256.
pub const ALG_HS256: &str = "HS256";

/// Length in bytes of a P-256 JWK coordinate (RFC 7518 §6.2.1.2: the full
/// field size, leading zeros kept).
const JWK_COORDINATE_LEN: usize = 32;

/// Errors from decoding and verifying a JWS, and from reading a JWK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// The token or JWK is not well formed.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("JWS of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Length of the token.
        len: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// The header's `alg` (or a JWK's `kty` or `crv`) is not the one expected.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The signature does not verify. Deliberately opaque.
    #[error("signature verification failed")]
    SignatureInvalid,
    /// The key is not usable: a JWK point not on P-256, or a JWK that contains
    /// a private member.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// An HS256 key shorter than 32 bytes.
    #[error("HS256 key of {0} bytes is shorter than the required 32 bytes")]
    WeakKey(usize),
}

/// The protected header of a compact JWS.
///
/// Members other than `alg`, `kid`, `typ` and `x5c` are kept in `other`, so
/// a header survives a parse and serialise round trip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// The signature algorithm, `ES256` or `HS256` here.
    pub alg: String,
    /// The key id of the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The media type of the whole token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// An X.509 certificate chain, base64 (not base64url) DER, leaf first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// Any other header members, kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A JWS whose signature has been verified.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedJws {
    /// The protected header.
    pub header: JwsHeader,
    /// The decoded payload.
    pub payload: Vec<u8>,
}

/// Encodes bytes as base64url without padding (RFC 7515 §2).
pub fn base64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding, rejecting padding, whitespace, other
/// alphabets and non-canonical encodings (set trailing bits).
///
/// # Errors
///
/// Returns [`JwsError::Malformed`] naming the first invalid character or
/// the length problem.
pub fn base64url_decode(text: &str) -> Result<Vec<u8>, JwsError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| JwsError::Malformed(format!("invalid base64url: {e}")))
}

/// Signs a payload with ES256 and returns the compact JWS.
///
/// The header contains `alg`, then `kid` and `typ` when given. ECDSA nonces are
/// derived deterministically (RFC 6979), so no randomness is needed.
///
/// The signature is in low-S form (`s` at most half the group order). For
/// every ECDSA signature `(r, s)`, `(r, n - s)` verifies too, so anyone can
/// make a second token for the same content. Signing in one form lets a
/// consumer that identifies tokens by their bytes (a log, a hash chain)
/// insist on low S for tokens Valise made. [`verify_es256`] still accepts
/// both forms, because other ES256 signers do not normalise.
pub fn sign_es256(
    key: &p256::ecdsa::SigningKey,
    kid: Option<&str>,
    typ: Option<&str>,
    payload: &[u8],
) -> String {
    let header = JwsHeader {
        alg: ALG_ES256.to_owned(),
        kid: kid.map(str::to_owned),
        typ: typ.map(str::to_owned),
        ..JwsHeader::default()
    };
    let signing_input = signing_input(&header, payload);
    let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
    let signature = signature.normalize_s().unwrap_or(signature);
    format!(
        "{signing_input}.{}",
        base64url_encode(&signature.to_bytes())
    )
}

/// Signs a payload with HS256 (header `{"alg":"HS256"}`) and returns the
/// compact JWS. [`verify_hs256`] rejects keys shorter than 32 bytes.
pub fn sign_hs256(key: &[u8], payload: &[u8]) -> String {
    let header = JwsHeader {
        alg: ALG_HS256.to_owned(),
        ..JwsHeader::default()
    };
    let signing_input = signing_input(&header, payload);
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(signing_input.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!("{signing_input}.{}", base64url_encode(&tag))
}

fn signing_input(header: &JwsHeader, payload: &[u8]) -> String {
    let header_json =
        serde_json::to_vec(header).expect("a header of strings and a string map always serialises");
    format!(
        "{}.{}",
        base64url_encode(&header_json),
        base64url_encode(payload)
    )
}

/// A compact JWS split into its decoded parts.
struct Parts<'a> {
    header: JwsHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, as in the token.
    signing_input: &'a str,
}

fn split(token: &str, max_len: usize) -> Result<Parts<'_>, JwsError> {
    if token.len() > max_len {
        return Err(JwsError::TooLarge {
            len: token.len(),
            max: max_len,
        });
    }
    let pieces: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = pieces[..] else {
        return Err(JwsError::Malformed(format!(
            "compact JWS has {} parts, expected 3",
            pieces.len()
        )));
    };
    let header_bytes =
        base64url_decode(header_b64).map_err(|e| JwsError::Malformed(format!("header: {e}")))?;
    let header = parse_header(&header_bytes)?;
    let payload =
        base64url_decode(payload_b64).map_err(|e| JwsError::Malformed(format!("payload: {e}")))?;
    let signature = base64url_decode(signature_b64)
        .map_err(|e| JwsError::Malformed(format!("signature: {e}")))?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(Parts {
        header,
        payload,
        signature,
        signing_input,
    })
}

fn parse_header(bytes: &[u8]) -> Result<JwsHeader, JwsError> {
    let value = strict_json::parse(bytes)
        .map_err(|e| JwsError::Malformed(format!("header is not valid JSON: {e}")))?;
    let serde_json::Value::Object(members) = value else {
        return Err(JwsError::Malformed(
            "header is not a JSON object".to_owned(),
        ));
    };
    if let Some(crit) = members.get("crit") {
        return Err(JwsError::Malformed(format!(
            "unsupported critical header parameters {crit}"
        )));
    }
    serde_json::from_value(serde_json::Value::Object(members))
        .map_err(|e| JwsError::Malformed(format!("header: {e}")))
}

/// Splits and decodes a compact JWS without verifying it, so the caller can
/// read `kid` before choosing a key. Never trust the result.
///
/// # Errors
///
/// Returns [`JwsError::TooLarge`] above [`MAX_TOKEN_LEN`] bytes and
/// [`JwsError::Malformed`] when the token does not have three canonical
/// base64url parts or the header is not a JSON object with a string `alg`
/// and no duplicate members.
pub fn decode_unverified(token: &str) -> Result<(JwsHeader, Vec<u8>), JwsError> {
    decode_unverified_within(token, MAX_TOKEN_LEN)
}

/// Splits and decodes, as [`decode_unverified`] does, a token of up to
/// `max_len` bytes, such as an assertion binding, whose size grows with the
/// number of segments.
///
/// # Errors
///
/// As [`decode_unverified`], with `max_len` as the bound.
pub fn decode_unverified_within(token: &str, max_len: usize) -> Result<(JwsHeader, Vec<u8>), JwsError> {
    let parts = split(token, max_len)?;
    Ok((parts.header, parts.payload))
}

/// Verifies an ES256 compact JWS with the given public key.
///
/// # Errors
///
/// Returns [`JwsError::UnsupportedAlgorithm`] for any `alg` but `ES256`
/// (including `none`), [`JwsError::Malformed`] for a signature that is not
/// 64 bytes (a DER signature, for example) or a malformed token, and
/// [`JwsError::SignatureInvalid`] when the signature does not verify,
/// including an `r` or `s` of zero.
pub fn verify_es256(token: &str, key: &p256::ecdsa::VerifyingKey) -> Result<VerifiedJws, JwsError> {
    verify_es256_within(token, key, MAX_TOKEN_LEN)
}

/// Verifies, as [`verify_es256`] does, a token of up to `max_len` bytes.
///
/// # Errors
///
/// As [`verify_es256`], with `max_len` as the bound.
pub fn verify_es256_within(
    token: &str,
    key: &p256::ecdsa::VerifyingKey,
    max_len: usize,
) -> Result<VerifiedJws, JwsError> {
    let parts = split(token, max_len)?;
    if parts.header.alg != ALG_ES256 {
        return Err(JwsError::UnsupportedAlgorithm(parts.header.alg));
    }
    verify_es256_raw(parts.signing_input.as_bytes(), &parts.signature, key)?;
    Ok(VerifiedJws {
        header: parts.header,
        payload: parts.payload,
    })
}

/// Verifies a raw ES256 signature (`r || s`, 64 bytes) over a signing input.
/// [`verify_es256`] calls this after splitting the token; it is exposed for
/// the Wycheproof test suite.
///
/// # Errors
///
/// Returns [`JwsError::Malformed`] when the signature is not 64 bytes and
/// [`JwsError::SignatureInvalid`] when it does not verify or `r` or `s` is
/// zero or not below the group order.
#[doc(hidden)]
pub fn verify_es256_raw(
    signing_input: &[u8],
    signature: &[u8],
    key: &p256::ecdsa::VerifyingKey,
) -> Result<(), JwsError> {
    if signature.len() != ES256_SIGNATURE_LEN {
        return Err(JwsError::Malformed(format!(
            "ES256 signature is {} bytes, expected {ES256_SIGNATURE_LEN} (r || s)",
            signature.len()
        )));
    }
    // `from_slice` rejects r = 0, s = 0 and values not below the group
    // order, so the all-zero signature of CVE-2022-21449 never reaches the
    // verification equation.
    let signature =
        p256::ecdsa::Signature::from_slice(signature).map_err(|_| JwsError::SignatureInvalid)?;
    key.verify(signing_input, &signature)
        .map_err(|_| JwsError::SignatureInvalid)
}

/// Verifies an HS256 compact JWS with the given key.
///
/// # Errors
///
/// Returns [`JwsError::WeakKey`] for a key shorter than 32 bytes,
/// [`JwsError::UnsupportedAlgorithm`] for any `alg` but `HS256`,
/// [`JwsError::Malformed`] for a malformed token and
/// [`JwsError::SignatureInvalid`] when the tag does not match.
///
/// # Security
///
/// The tag is compared in constant time.
pub fn verify_hs256(token: &str, key: &[u8]) -> Result<VerifiedJws, JwsError> {
    verify_hs256_within(token, key, MAX_TOKEN_LEN)
}

/// Verifies, as [`verify_hs256`] does, a token of up to `max_len` bytes.
///
/// # Errors
///
/// As [`verify_hs256`], with `max_len` as the bound.
pub fn verify_hs256_within(token: &str, key: &[u8], max_len: usize) -> Result<VerifiedJws, JwsError> {
    if key.len() < HS256_MIN_KEY_LEN {
        return Err(JwsError::WeakKey(key.len()));
    }
    let parts = split(token, max_len)?;
    if parts.header.alg != ALG_HS256 {
        return Err(JwsError::UnsupportedAlgorithm(parts.header.alg));
    }
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(parts.signing_input.as_bytes());
    mac.verify_slice(&parts.signature)
        .map_err(|_| JwsError::SignatureInvalid)?;
    Ok(VerifiedJws {
        header: parts.header,
        payload: parts.payload,
    })
}

/// Converts a P-256 public key to a JWK: `kty` `EC`, `crv` `P-256`, `x` and
/// `y` as 32-byte base64url, and `kid`.
pub fn public_jwk(key: &p256::PublicKey, kid: &str) -> serde_json::Value {
    let (x, y) = coordinates(key);
    serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "x": base64url_encode(&x),
        "y": base64url_encode(&y),
        "kid": kid,
    })
}

/// Returns the affine coordinates of a public key, 32 bytes each.
pub(crate) fn coordinates(key: &p256::PublicKey) -> ([u8; 32], [u8; 32]) {
    let point = key.to_encoded_point(false);
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    // An uncompressed point of a valid public key always has both
    // coordinates, so the fallback zeros are never used.
    if let (Some(px), Some(py)) = (point.x(), point.y()) {
        x.copy_from_slice(px);
        y.copy_from_slice(py);
    }
    (x, y)
}

/// Reads a P-256 public key from a JWK and returns it with the JWK's `kid`.
///
/// # Errors
///
/// Returns [`JwsError::UnsupportedAlgorithm`] when `kty` is not `EC` or
/// `crv` is not `P-256`, [`JwsError::Malformed`] when a member is missing,
/// not a string or not 32 bytes of canonical base64url, and
/// [`JwsError::InvalidKey`] when the point is not on the curve or the JWK
/// carries the private member `d`.
pub fn public_key_from_jwk(
    jwk: &serde_json::Value,
) -> Result<(p256::PublicKey, Option<String>), JwsError> {
    let serde_json::Value::Object(members) = jwk else {
        return Err(JwsError::Malformed("JWK is not a JSON object".to_owned()));
    };
    let text_member = |name: &str| -> Result<Option<&str>, JwsError> {
        match members.get(name) {
            None => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(JwsError::Malformed(format!(
                "JWK member {name:?} is not a string: {other}"
            ))),
        }
    };
    let required = |name: &str| -> Result<&str, JwsError> {
        text_member(name)?
            .ok_or_else(|| JwsError::Malformed(format!("JWK member {name:?} is missing")))
    };

    let kty = required("kty")?;
    if kty != "EC" {
        return Err(JwsError::UnsupportedAlgorithm(format!("JWK kty {kty}")));
    }
    let crv = required("crv")?;
    if crv != "P-256" {
        return Err(JwsError::UnsupportedAlgorithm(format!("JWK crv {crv}")));
    }
    if members.contains_key("d") {
        return Err(JwsError::InvalidKey(
            "JWK contains the private member \"d\" where a public key is expected".to_owned(),
        ));
    }
    let x = coordinate(required("x")?, "x")?;
    let y = coordinate(required("y")?, "y")?;
    let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
    let key = Option::<p256::PublicKey>::from(p256::PublicKey::from_encoded_point(&point))
        .ok_or_else(|| JwsError::InvalidKey("JWK point is not on P-256".to_owned()))?;
    let kid = text_member("kid")?.map(str::to_owned);
    Ok((key, kid))
}

fn coordinate(text: &str, name: &str) -> Result<[u8; JWK_COORDINATE_LEN], JwsError> {
    let bytes =
        base64url_decode(text).map_err(|e| JwsError::Malformed(format!("JWK {name}: {e}")))?;
    bytes.as_slice().try_into().map_err(|_| {
        JwsError::Malformed(format!(
            "JWK {name} is {} bytes, expected {JWK_COORDINATE_LEN}",
            bytes.len()
        ))
    })
}

/// A JSON parser that rejects duplicate object members at any depth.
///
/// `serde_json` keeps the last of duplicate members, so two readers could
/// see different headers in one token. This is kept to JWS headers; the
/// manifest has its own strict reader.
mod strict_json {
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};
    use std::fmt;

    pub(super) fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
        serde_json::from_slice::<StrictValue>(bytes).map(|strict| strict.0)
    }

    struct StrictValue(Value);

    impl<'de> Deserialize<'de> for StrictValue {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(StrictVisitor)
        }
    }

    struct StrictVisitor;

    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = StrictValue;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::Bool(v)))
        }

        fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::Number(v.into())))
        }

        fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::Number(v.into())))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictValue, E> {
            Number::from_f64(v)
                .map(|n| StrictValue(Value::Number(n)))
                .ok_or_else(|| E::custom("number is not finite"))
        }

        fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::String(v.to_owned())))
        }

        fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::String(v)))
        }

        fn visit_unit<E>(self) -> Result<StrictValue, E> {
            Ok(StrictValue(Value::Null))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
            let mut items = Vec::new();
            while let Some(StrictValue(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(StrictValue(Value::Array(items)))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
            let mut members = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if members.contains_key(&key) {
                    return Err(de::Error::custom(format!("duplicate member {key:?}")));
                }
                let StrictValue(value) = map.next_value()?;
                members.insert(key, value);
            }
            Ok(StrictValue(Value::Object(members)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signing_key() -> p256::ecdsa::SigningKey {
        // A fixed test key; its value has no meaning.
        p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).expect("valid scalar")
    }

    fn token_with(header_json: &str, payload: &[u8], signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            base64url_encode(header_json.as_bytes()),
            base64url_encode(payload),
            base64url_encode(signature)
        )
    }

    #[test]
    fn es256_round_trip() {
        let key = signing_key();
        let token = sign_es256(&key, Some("k1"), Some("valise+jwt"), b"{\"a\":1}");
        let verified = verify_es256(&token, key.verifying_key()).expect("verifies");
        assert_eq!(verified.payload, b"{\"a\":1}");
        assert_eq!(verified.header.alg, "ES256");
        assert_eq!(verified.header.kid.as_deref(), Some("k1"));
        assert_eq!(verified.header.typ.as_deref(), Some("valise+jwt"));
        let signature = token.rsplit('.').next().expect("three parts");
        assert_eq!(base64url_decode(signature).expect("b64").len(), 64);
    }

    #[test]
    fn es256_signatures_are_low_s() {
        // Half of the raw signatures have a high S, so 64 payloads without
        // one show that signing normalises.
        let key = signing_key();
        for index in 0..64u32 {
            let token = sign_es256(&key, None, None, &index.to_be_bytes());
            let signature = token.rsplit('.').next().expect("three parts");
            let signature = p256::ecdsa::Signature::from_slice(&base64url_decode(signature).expect("b64")).expect("signature");
            assert!(signature.normalize_s().is_none(), "payload {index} has a high S");
            assert!(verify_es256(&token, key.verifying_key()).is_ok());

            // The high-S twin still verifies, for other signers' sake.
            let (r, s) = signature.split_scalars();
            let twin = p256::ecdsa::Signature::from_scalars(r, -*s).expect("valid scalars");
            let (input, _) = token.rsplit_once('.').expect("three parts");
            let twin = format!("{input}.{}", base64url_encode(&twin.to_bytes()));
            assert!(verify_es256(&twin, key.verifying_key()).is_ok());
        }
    }

    #[test]
    fn es256_tampered_payload_fails() {
        let key = signing_key();
        let token = sign_es256(&key, None, None, b"payload");
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], base64url_encode(b"payloaD"), parts[2]);
        assert!(matches!(
            verify_es256(&tampered, key.verifying_key()),
            Err(JwsError::SignatureInvalid)
        ));
    }

    #[test]
    fn es256_tampered_signature_fails() {
        let key = signing_key();
        let token = sign_es256(&key, None, None, b"payload");
        let parts: Vec<&str> = token.split('.').collect();
        let mut signature = base64url_decode(parts[2]).expect("b64");
        signature[10] ^= 1;
        let tampered = format!("{}.{}.{}", parts[0], parts[1], base64url_encode(&signature));
        assert!(matches!(
            verify_es256(&tampered, key.verifying_key()),
            Err(JwsError::SignatureInvalid)
        ));
    }

    #[test]
    fn es256_wrong_key_fails() {
        let token = sign_es256(&signing_key(), None, None, b"payload");
        let other = p256::ecdsa::SigningKey::from_slice(&[0x22; 32]).expect("valid scalar");
        assert!(matches!(
            verify_es256(&token, other.verifying_key()),
            Err(JwsError::SignatureInvalid)
        ));
    }

    #[test]
    fn es256_rejects_all_zero_signature() {
        // CVE-2022-21449: r = s = 0 must never verify.
        let key = signing_key();
        let token = token_with(r#"{"alg":"ES256"}"#, b"payload", &[0u8; 64]);
        assert!(matches!(
            verify_es256(&token, key.verifying_key()),
            Err(JwsError::SignatureInvalid)
        ));
        assert!(verify_es256_raw(b"anything", &[0u8; 64], key.verifying_key()).is_err());
    }

    #[test]
    fn es256_rejects_der_signature() {
        let key = signing_key();
        let token = sign_es256(&key, None, None, b"payload");
        let parts: Vec<&str> = token.split('.').collect();
        let raw = base64url_decode(parts[2]).expect("b64");
        let signature = p256::ecdsa::Signature::from_slice(&raw).expect("raw signature");
        let der = signature.to_der();
        let der_token = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            base64url_encode(der.as_bytes())
        );
        assert!(matches!(
            verify_es256(&der_token, key.verifying_key()),
            Err(JwsError::Malformed(_))
        ));
    }

    #[test]
    fn es256_rejects_other_algorithms() {
        let key = signing_key();
        let signed = sign_es256(&key, None, None, b"payload");
        let parts: Vec<&str> = signed.split('.').collect();
        for alg in ["none", "HS256", "ES384", "es256", "ES256 "] {
            let header = base64url_encode(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
            let token = format!("{header}.{}.{}", parts[1], parts[2]);
            assert!(
                matches!(verify_es256(&token, key.verifying_key()), Err(JwsError::UnsupportedAlgorithm(a)) if a == alg),
                "alg {alg}"
            );
        }
        let unsigned = format!("{}.{}.", base64url_encode(br#"{"alg":"none"}"#), parts[1]);
        assert!(verify_es256(&unsigned, key.verifying_key()).is_err());
    }

    #[test]
    fn hs256_round_trip_and_tamper() {
        let key = [0x42u8; 32];
        let token = sign_hs256(&key, b"payload");
        let verified = verify_hs256(&token, &key).expect("verifies");
        assert_eq!(verified.payload, b"payload");
        assert_eq!(verified.header.alg, "HS256");

        let mut other_key = key;
        other_key[0] ^= 1;
        assert!(matches!(
            verify_hs256(&token, &other_key),
            Err(JwsError::SignatureInvalid)
        ));
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], base64url_encode(b"Payload"), parts[2]);
        assert!(matches!(
            verify_hs256(&tampered, &key),
            Err(JwsError::SignatureInvalid)
        ));
        let short_tag = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
        assert!(verify_hs256(&short_tag, &key).is_err());
    }

    #[test]
    fn hs256_rejects_short_key_and_other_alg() {
        assert!(matches!(
            verify_hs256(&sign_hs256(b"short", b"x"), b"short"),
            Err(JwsError::WeakKey(5))
        ));
        let es = sign_es256(&signing_key(), None, None, b"x");
        assert!(matches!(
            verify_hs256(&es, &[0u8; 32]),
            Err(JwsError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn stock_hs256_assertion_decodes() {
        // An assertion binding from the stock OpenTDF golden file
        // `small-java-4.3.0-e0f8caf.tdf` (Java SDK). Only its shape is
        // checked here, because its key is the file's data key.
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJhc3NlcnRpb25TaWciOiJNRGMzTm1KbU5qZ3pOVGhrTWpSa01XUTROV05sWTJaaU9EUmhOalF4WlRFNE0yVTRNMlV4WTJGak1qQTFabVl4WWpGaVpEYzBOalpsT1RVek5EbGpOREJpTkRobVpqWm1NbVZqTnpBNE9XRXpaamt5TVRVMU9EQTVOVFl3WkdJMyIsImFzc2VydGlvbkhhc2giOiI4M2U4M2UxY2FjMjA1ZmYxYjFiZDc0NjZlOTUzNDljNDBiNDhmZjZmMmVjNzA4OWEzZjkyMTU1ODA5NTYwZGI3In0.ls4vAcd22bBcDm0sBenbYl6QDs4DsH0ibeJPv8-B1sc";
        let (header, payload) = decode_unverified(token).expect("decodes");
        assert_eq!(header.alg, "HS256");
        let json: serde_json::Value = serde_json::from_slice(&payload).expect("JSON payload");
        assert!(json.get("assertionHash").is_some());
    }

    #[test]
    fn decode_rejects_padding_and_noncanonical() {
        let key = signing_key();
        let token = sign_es256(&key, None, None, b"ab");
        let parts: Vec<&str> = token.split('.').collect();
        // "ab" encodes as "YWI"; with padding it is "YWI=".
        assert_eq!(parts[1], "YWI");
        let padded = format!("{}.YWI=.{}", parts[0], parts[2]);
        assert!(matches!(
            decode_unverified(&padded),
            Err(JwsError::Malformed(_))
        ));
        // "YWJ" decodes to the same bytes with a set trailing bit.
        let noncanonical = format!("{}.YWJ.{}", parts[0], parts[2]);
        assert!(matches!(
            decode_unverified(&noncanonical),
            Err(JwsError::Malformed(_))
        ));
        let standard_alphabet = format!("{}.YW+.{}", parts[0], parts[2]);
        assert!(decode_unverified(&standard_alphabet).is_err());
        let with_space = format!("{}.Y WI.{}", parts[0], parts[2]);
        assert!(decode_unverified(&with_space).is_err());
    }

    #[test]
    fn decode_rejects_wrong_part_count_and_size() {
        assert!(matches!(
            decode_unverified("a.b"),
            Err(JwsError::Malformed(_))
        ));
        assert!(matches!(
            decode_unverified("a.b.c.d.e"),
            Err(JwsError::Malformed(_))
        ));
        assert!(decode_unverified("").is_err());
        let huge = "A".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(
            decode_unverified(&huge),
            Err(JwsError::TooLarge { len, max }) if len == MAX_TOKEN_LEN + 1 && max == MAX_TOKEN_LEN
        ));
    }

    #[test]
    fn decode_rejects_bad_headers() {
        let cases = [
            r#"{"alg":"ES256","alg":"none"}"#,
            r#"{"alg":"ES256","x":{"k":1,"k":2}}"#,
            r#"["ES256"]"#,
            r#"{"kid":"k"}"#,
            r#"{"alg":5}"#,
            r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"ES256"} x"#,
        ];
        for header in cases {
            let token = token_with(header, b"p", &[1u8; 64]);
            assert!(
                matches!(decode_unverified(&token), Err(JwsError::Malformed(_))),
                "header {header}"
            );
        }
    }

    #[test]
    fn header_keeps_unknown_members() {
        let token = token_with(
            r#"{"alg":"ES256","kid":"k","x5c":["AAEC"],"custom":{"n":[1,2.5,null,true]}}"#,
            b"p",
            &[1u8; 64],
        );
        let (header, _) = decode_unverified(&token).expect("decodes");
        assert_eq!(header.x5c, Some(vec!["AAEC".to_owned()]));
        assert_eq!(
            header.other.get("custom"),
            Some(&serde_json::json!({"n": [1, 2.5, null, true]}))
        );
        let again: JwsHeader =
            serde_json::from_value(serde_json::to_value(&header).expect("serialise"))
                .expect("parse");
        assert_eq!(again, header);
    }

    #[test]
    fn jwk_round_trip() {
        let public = p256::PublicKey::from(signing_key().verifying_key());
        let jwk = public_jwk(&public, "k1");
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        let (parsed, kid) = public_key_from_jwk(&jwk).expect("parses");
        assert_eq!(parsed, public);
        assert_eq!(kid.as_deref(), Some("k1"));
    }

    #[test]
    fn jwk_rejects_bad_members() {
        let public = p256::PublicKey::from(signing_key().verifying_key());
        let good = public_jwk(&public, "k1");
        let edit = |name: &str, value: serde_json::Value| {
            let mut jwk = good.clone();
            jwk[name] = value;
            jwk
        };
        let mut y = base64url_decode(good["y"].as_str().expect("y")).expect("b64");
        y[31] ^= 1;
        let off_curve = edit("y", base64url_encode(&y).into());
        assert!(matches!(
            public_key_from_jwk(&off_curve),
            Err(JwsError::InvalidKey(_))
        ));
        assert!(matches!(
            public_key_from_jwk(&edit("crv", "P-384".into())),
            Err(JwsError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            public_key_from_jwk(&edit("kty", "RSA".into())),
            Err(JwsError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            public_key_from_jwk(&edit("d", "AAAA".into())),
            Err(JwsError::InvalidKey(_))
        ));
        let short_x = edit("x", base64url_encode(&[1u8; 31]).into());
        assert!(matches!(
            public_key_from_jwk(&short_x),
            Err(JwsError::Malformed(_))
        ));
        assert!(matches!(
            public_key_from_jwk(&edit("x", 5.into())),
            Err(JwsError::Malformed(_))
        ));
        assert!(public_key_from_jwk(&serde_json::json!("not an object")).is_err());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(token in "[A-Za-z0-9_=+/. -]{0,200}") {
            let _ = decode_unverified(&token);
        }

        #[test]
        fn decode_never_panics_on_json_headers(header in "\\PC{0,80}", payload in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let token = token_with(&header, &payload, &[0u8; 64]);
            let _ = decode_unverified(&token);
        }

        #[test]
        fn es256_rejects_any_one_character_change(position in 0usize..1000, replacement in "[A-Za-z0-9_.=-]") {
            let key = signing_key();
            let token = sign_es256(&key, Some("k1"), None, b"{\"claim\":true}");
            let position = position % token.len();
            let mut changed = token.clone();
            changed.replace_range(position..position + 1, &replacement);
            proptest::prop_assume!(changed != token);
            proptest::prop_assert!(verify_es256(&changed, key.verifying_key()).is_err());
        }
    }
}
