//! Sealing a package: encrypt the payload in segments, wrap the data key for
//! each recipient, and bind the label, rights and provenance with the
//! originator's ES256 signature.
//!
//! The writer streams: it reads the plaintext one segment at a time and
//! writes each encrypted segment at once, so memory does not grow with the
//! input. The manifest, which needs every segment hash, goes last.

use std::io::{self, Read, Write};

use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::assertions::{
    Label, Originator, Provenance, Rights, LABEL_ID, LABEL_SCHEMA, PROVENANCE_ID, PROVENANCE_SCHEMA, RIGHTS_ID, RIGHTS_SCHEMA,
    STATEMENT_FORMAT,
};
use crate::container::{ContainerError, ContainerWriter};
use crate::jws;
use crate::key_access::{self, DataKey, GCM_NONCE_LEN};
use crate::limits::{MAX_KEY_ACCESS_OBJECTS, MAX_PAYLOAD_BYTES, MAX_SEGMENTS, MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES};
use crate::manifest::{
    self, assertion_hash, assertion_sig_input, Assertion, Binding, BindingClaims, EncryptionInformation, IntegrityInformation,
    KeyAccess, Manifest, Method, PayloadReference, PolicyBinding, RootSignature, Segment, Statement, KEY_ACCESS_EC_WRAPPED,
    SCHEMA_VERSION,
};
use crate::policy::Policy;
use crate::segments::{encrypt_segment_in_place, gmac_hash, hmac_sha256, SegmentError, SEGMENT_OVERHEAD};

/// Schema version written on each key access object.
const KEY_ACCESS_SCHEMA_VERSION: &str = "1.0";

/// Errors of sealing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A setting is out of range (named in the message).
    #[error("invalid seal options: {0}")]
    InvalidOptions(String),
    /// The input is larger than the profile allows.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The input had another length than announced (it changed while read).
    #[error("input changed while being read: expected {expected} bytes, read {read}")]
    InputChanged {
        /// Announced length.
        expected: u64,
        /// Bytes read.
        read: u64,
    },
    /// Wrapping the data key or generating randomness failed.
    #[error("key wrapping failed: {0}")]
    KeyAccess(#[from] key_access::KeyAccessError),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
    /// Writing the archive failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// Reading the input failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// Building the manifest failed.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
}

/// A recipient key: the data key is wrapped for it in one `ec-wrapped` object.
#[derive(Clone, Debug)]
pub struct Recipient {
    /// The recipient's P-256 key access public key.
    pub public_key: p256::PublicKey,
    /// Its key id: from the trust list, or the RFC 7638 thumbprint.
    pub kid: String,
}

/// The originator: who seals, and the key that signs the assertions.
pub struct Signer {
    /// The ES256 signing key.
    pub signing_key: p256::ecdsa::SigningKey,
    /// Its key id (from the trust list, or the RFC 7638 thumbprint).
    pub kid: String,
    /// Organization id of the originator.
    pub org: String,
    /// Person sealing, if named.
    pub author: Option<String>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("signing_key", &"[redacted]")
            .field("kid", &self.kid)
            .field("org", &self.org)
            .field("author", &self.author)
            .finish()
    }
}

/// Settings of one seal operation: recipients, signer, statements and segment size.
#[derive(Debug)]
pub struct SealOptions {
    /// Recipients; at least one.
    pub recipients: Vec<Recipient>,
    /// The originator.
    pub signer: Signer,
    /// Handling label.
    pub label: Label,
    /// Usage rights.
    pub rights: Rights,
    /// Community id, if any.
    pub community: Option<String>,
    /// Media type of the plaintext.
    pub media_type: String,
    /// Original file name, if it may travel with the package.
    pub file_name: Option<String>,
    /// Sealing time (the core reads no clock).
    pub created: OffsetDateTime,
    /// Plaintext bytes per segment, between [`MIN_SEGMENT_BYTES`] and [`MAX_SEGMENT_BYTES`].
    pub segment_size: u64,
    /// Attribute value FQNs of the policy.
    pub data_attributes: Vec<String>,
    /// Dissemination list of the policy.
    pub dissem: Vec<String>,
    /// `url` written on each key access object (informative offline).
    pub kas_url: String,
    /// Whether to embed the signer's public JWK in each JWS header, so a
    /// reader without a trust list can at least check consistency.
    pub embed_signer_jwk: bool,
}

/// Summary of a sealed package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Package id (policy `uuid`).
    pub package_id: String,
    /// Number of segments.
    pub segment_count: usize,
    /// Plaintext size.
    pub plaintext_size: u64,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SealError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(SealError::Random)?;
    Ok(bytes)
}

fn random_uuid() -> Result<String, SealError> {
    Ok(uuid::Builder::from_random_bytes(random_bytes::<16>()?).into_uuid().to_string())
}

/// Returns the number of segments for a plaintext: at least one, so that
/// even an empty payload carries an authenticated segment.
fn segment_count(plaintext_len: u64, segment_size: u64) -> u64 {
    plaintext_len.div_ceil(segment_size).max(1)
}

fn check_options(options: &SealOptions, plaintext_len: u64) -> Result<(), SealError> {
    if options.recipients.is_empty() {
        return Err(SealError::InvalidOptions("no recipient".into()));
    }
    if options.recipients.len() > MAX_KEY_ACCESS_OBJECTS {
        return Err(SealError::InvalidOptions(format!(
            "{} recipients exceed the limit of {MAX_KEY_ACCESS_OBJECTS}",
            options.recipients.len()
        )));
    }
    // A duplicate would write two key access objects and two provenance
    // entries for one reader, and make the recipient list say otherwise.
    for (index, recipient) in options.recipients.iter().enumerate() {
        for earlier in &options.recipients[..index] {
            if earlier.kid == recipient.kid {
                return Err(SealError::InvalidOptions(format!("duplicate recipient key id {:?}", recipient.kid)));
            }
            if earlier.public_key == recipient.public_key {
                return Err(SealError::InvalidOptions(format!(
                    "duplicate recipient key: {:?} and {:?} are the same public key",
                    earlier.kid, recipient.kid
                )));
            }
        }
    }
    if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&options.segment_size) {
        return Err(SealError::InvalidOptions(format!(
            "segment size {} is outside {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES} bytes",
            options.segment_size
        )));
    }
    if !options.rights.view {
        return Err(SealError::InvalidOptions("rights must allow view".into()));
    }
    if plaintext_len > MAX_PAYLOAD_BYTES {
        return Err(SealError::TooLarge { size: plaintext_len, limit: MAX_PAYLOAD_BYTES });
    }
    if segment_count(plaintext_len, options.segment_size) > MAX_SEGMENTS as u64 {
        return Err(SealError::InvalidOptions(format!(
            "{plaintext_len} bytes in segments of {} bytes exceed {MAX_SEGMENTS} segments; use larger segments",
            options.segment_size
        )));
    }
    Ok(())
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Threads that encrypt and digest segments in [`seal`].
pub const SEAL_WORKERS: usize = 2;

/// Segment buffers [`seal`] holds at most at once: one per worker, one
/// being written and one being read (8 MiB with the default segment size).
pub const SEAL_SEGMENTS_IN_FLIGHT: usize = SEAL_WORKERS + 2;

/// What the manifest and the provenance record about each segment, in order.
#[derive(Default)]
struct SegmentTable {
    segments: Vec<Segment>,
    segment_digests: Vec<[u8; 32]>,
    aggregate: Vec<u8>,
}

impl SegmentTable {
    fn push(&mut self, plaintext_len: usize, encrypted_len: usize, sealed: &SealedSegment) {
        self.aggregate.extend_from_slice(&sealed.tag);
        self.segment_digests.push(sealed.digest);
        self.segments.push(Segment {
            hash: base64::engine::general_purpose::STANDARD.encode(sealed.tag),
            segment_size: Some(plaintext_len as u64),
            encrypted_segment_size: Some(encrypted_len as u64),
            extra: Map::new(),
        });
    }
}

/// The GMAC segment hash and the SHA-256 of one encrypted segment.
struct SealedSegment {
    tag: [u8; 16],
    digest: [u8; 32],
}

/// Reads up to `segment_size` plaintext bytes into `buffer` after
/// [`GCM_NONCE_LEN`] bytes of room for the nonce; returns the bytes read.
/// The buffer keeps its allocation from one segment to the next.
fn read_plaintext<R: Read>(reader: &mut R, buffer: &mut Vec<u8>, segment_size: usize) -> io::Result<usize> {
    buffer.resize(GCM_NONCE_LEN + segment_size, 0);
    let filled = read_full(reader, &mut buffer[GCM_NONCE_LEN..])?;
    buffer.truncate(GCM_NONCE_LEN + filled);
    Ok(filled)
}

/// Encrypts the segment `buffer` holds (see [`read_plaintext`]) in place and
/// digests the result.
fn seal_segment(key: &DataKey, buffer: &mut Vec<u8>) -> Result<SealedSegment, SealError> {
    encrypt_segment_in_place(key, buffer).map_err(|e| match e {
        SegmentError::Random(random) => SealError::Random(random),
        _ => SealError::InvalidOptions("segment encryption failed".into()),
    })?;
    let tag = gmac_hash(buffer).map_err(|_| SealError::InvalidOptions("segment encryption failed".into()))?;
    Ok(SealedSegment { tag, digest: Sha256::digest(&buffer[..]).into() })
}

/// The threaded segment loop of [`seal`]: the calling thread reads, digests
/// the plaintext (a sequential digest) and writes in order; segment `i` is
/// encrypted and digested by worker `i % SEAL_WORKERS`, which answers in
/// the order it received. Returns the plaintext bytes read.
#[cfg(not(target_arch = "wasm32"))]
fn seal_parallel<R: Read, W: Write>(
    key: &DataKey,
    count: u64,
    segment_size: usize,
    reader: &mut R,
    plaintext_digest: &mut Sha256,
    table: &mut SegmentTable,
    container: &mut ContainerWriter<W>,
) -> Result<u64, SealError> {
    use std::sync::mpsc::sync_channel;
    type Done = (Zeroizing<Vec<u8>>, Result<SealedSegment, SealError>);
    let worker_stopped = || SealError::Io(io::Error::other("a segment worker thread stopped"));
    std::thread::scope(|scope| {
        let mut jobs = Vec::with_capacity(SEAL_WORKERS);
        let mut results = Vec::with_capacity(SEAL_WORKERS);
        for _ in 0..SEAL_WORKERS {
            let (job_sender, job_receiver) = sync_channel::<Zeroizing<Vec<u8>>>(SEAL_SEGMENTS_IN_FLIGHT);
            let (done_sender, done_receiver) = sync_channel::<Done>(SEAL_SEGMENTS_IN_FLIGHT);
            std::thread::Builder::new().name("valise-seal".into()).spawn_scoped(scope, move || {
                for mut buffer in job_receiver {
                    let result = seal_segment(key, &mut buffer);
                    if done_sender.send((buffer, result)).is_err() {
                        break;
                    }
                }
            })?;
            jobs.push(job_sender);
            results.push(done_receiver);
        }
        let capacity = segment_size + SEGMENT_OVERHEAD as usize;
        let mut free: Vec<_> = (0..SEAL_SEGMENTS_IN_FLIGHT).map(|_| Zeroizing::new(Vec::with_capacity(capacity))).collect();
        let mut plaintext_lens = std::collections::VecDeque::with_capacity(SEAL_SEGMENTS_IN_FLIGHT);
        let (mut next_read, mut next_write, mut read_total) = (0u64, 0u64, 0u64);
        while next_write < count {
            while next_read < count {
                let Some(mut buffer) = free.pop() else { break };
                let filled = read_plaintext(reader, &mut buffer, segment_size)?;
                read_total += filled as u64;
                plaintext_digest.update(&buffer[GCM_NONCE_LEN..]);
                plaintext_lens.push_back(filled);
                jobs[(next_read % SEAL_WORKERS as u64) as usize].send(buffer).map_err(|_| worker_stopped())?;
                next_read += 1;
            }
            let (buffer, result) = results[(next_write % SEAL_WORKERS as u64) as usize].recv().map_err(|_| worker_stopped())?;
            let sealed = result?;
            let filled = plaintext_lens.pop_front().ok_or_else(worker_stopped)?;
            table.push(filled, buffer.len(), &sealed);
            container.write_payload(&buffer)?;
            free.push(buffer);
            next_write += 1;
        }
        Ok(read_total)
    })
}

/// Seals `plaintext_len` bytes from `reader` into a package written to `writer`.
///
/// # Errors
///
/// [`SealError`] for invalid options, an input over the limits or of
/// another length than announced, and I/O failures. On error the output is
/// incomplete and must be discarded.
pub fn seal<R: Read, W: Write>(options: &SealOptions, plaintext_len: u64, mut reader: R, writer: W) -> Result<(W, Sealed), SealError> {
    check_options(options, plaintext_len)?;
    let data_key = DataKey::generate().map_err(SealError::Random)?;
    let count = segment_count(plaintext_len, options.segment_size);
    let payload_len = plaintext_len + count * SEGMENT_OVERHEAD;

    let mut container = ContainerWriter::new(writer, payload_len)?;
    let segment_size = usize::try_from(options.segment_size).unwrap_or(usize::MAX);
    let mut plaintext_digest = Sha256::new();
    let mut table = SegmentTable::default();
    let mut read_total = 0u64;
    #[cfg(not(target_arch = "wasm32"))]
    let parallel = count > 1;
    #[cfg(target_arch = "wasm32")]
    let parallel = false;
    if parallel {
        #[cfg(not(target_arch = "wasm32"))]
        {
            read_total = seal_parallel(&data_key, count, segment_size, &mut reader, &mut plaintext_digest, &mut table, &mut container)?;
        }
    } else {
        let mut buffer = Zeroizing::new(Vec::with_capacity(segment_size + SEGMENT_OVERHEAD as usize));
        for _ in 0..count {
            let filled = read_plaintext(&mut reader, &mut buffer, segment_size)?;
            read_total += filled as u64;
            plaintext_digest.update(&buffer[GCM_NONCE_LEN..]);
            let sealed = seal_segment(&data_key, &mut buffer)?;
            table.push(filled, buffer.len(), &sealed);
            container.write_payload(&buffer)?;
        }
    }
    // The input must end exactly where announced.
    let extra = read_full(&mut reader, &mut [0u8; 1])?;
    if read_total != plaintext_len || extra != 0 {
        return Err(SealError::InputChanged { expected: plaintext_len, read: read_total + extra as u64 });
    }
    let SegmentTable { segments, segment_digests, aggregate } = table;

    let package_id = random_uuid()?;
    let policy = Policy::new_profile(package_id.clone(), options.data_attributes.clone(), options.dissem.clone());
    let policy_base64 = policy.to_base64();
    let binding = base64::engine::general_purpose::STANDARD.encode(key_access::policy_binding(&data_key, &policy_base64));
    let split_id = random_uuid()?;
    let mut key_access_objects = Vec::new();
    for recipient in &options.recipients {
        let wrapped = key_access::wrap_ec(&recipient.public_key, &data_key)?;
        key_access_objects.push(KeyAccess {
            kind: KEY_ACCESS_EC_WRAPPED.into(),
            url: options.kas_url.clone(),
            protocol: "kas".into(),
            wrapped_key: base64::engine::general_purpose::STANDARD.encode(&wrapped.wrapped_key),
            policy_binding: PolicyBinding::Object { alg: "HS256".into(), hash: binding.clone(), extra: Map::new() },
            encrypted_metadata: None,
            kid: Some(recipient.kid.clone()),
            sid: Some(split_id.clone()),
            ephemeral_public_key: Some(wrapped.ephemeral_public_key_pem),
            schema_version: Some(KEY_ACCESS_SCHEMA_VERSION.into()),
            extra: Map::new(),
        });
    }

    let root = hmac_sha256(&data_key, &aggregate);
    let mut manifest = Manifest {
        schema_version: Some(SCHEMA_VERSION.into()),
        encryption_information: EncryptionInformation {
            kind: "split".into(),
            policy: policy_base64,
            key_access: key_access_objects,
            method: Method { algorithm: "AES-256-GCM".into(), iv: None, is_streamable: Some(true), extra: Map::new() },
            integrity_information: IntegrityInformation {
                root_signature: RootSignature {
                    alg: "HS256".into(),
                    sig: base64::engine::general_purpose::STANDARD.encode(root),
                    extra: Map::new(),
                },
                segment_hash_alg: "GMAC".into(),
                segment_size_default: options.segment_size,
                encrypted_segment_size_default: options.segment_size + SEGMENT_OVERHEAD,
                segments,
                extra: Map::new(),
            },
            extra: Map::new(),
        },
        payload: PayloadReference {
            kind: "reference".into(),
            url: crate::container::PAYLOAD_NAME.into(),
            protocol: "zip".into(),
            mime_type: Some(options.media_type.clone()),
            is_encrypted: true,
            extra: Map::new(),
        },
        assertions: None,
        extra: Map::new(),
    };

    let manifest_digest = manifest::manifest_hash(&serde_json::to_value(&manifest).map_err(json_error)?)?;
    let provenance = Provenance {
        community: options.community.clone(),
        originator: Originator { org: options.signer.org.clone(), author: options.signer.author.clone(), kid: options.signer.kid.clone() },
        created: options.created,
        media_type: options.media_type.clone(),
        file_name: options.file_name.clone(),
        plaintext_sha256: plaintext_digest.finalize().into(),
        segment_sha256: segment_digests,
        recipients: options.recipients.iter().map(|r| r.kid.clone()).collect(),
    };
    let statements = [
        (LABEL_ID, "handling", LABEL_SCHEMA, serde_json::to_value(&options.label).map_err(json_error)?),
        (RIGHTS_ID, "other", RIGHTS_SCHEMA, serde_json::to_value(&options.rights).map_err(json_error)?),
        (PROVENANCE_ID, "other", PROVENANCE_SCHEMA, serde_json::to_value(&provenance).map_err(json_error)?),
    ];
    let mut assertions = Vec::new();
    for (id, kind, schema, value) in statements {
        let mut assertion = Assertion {
            id: id.into(),
            kind: kind.into(),
            scope: "tdo".into(),
            applies_to_state: "unencrypted".into(),
            statement: Statement { format: STATEMENT_FORMAT.into(), schema: Some(schema.into()), value, extra: Map::new() },
            binding: None,
            extra: Map::new(),
        };
        let hash = assertion_hash(&serde_json::to_value(&assertion).map_err(json_error)?)?;
        let claims = BindingClaims {
            assertion_hash: hex::encode(hash),
            assertion_sig: base64::engine::general_purpose::STANDARD.encode(assertion_sig_input(&aggregate, &hash, false)),
            manifest_hash: Some(hex::encode(manifest_digest)),
            extra: Map::new(),
        };
        let payload = serde_json::to_vec(&claims).map_err(json_error)?;
        assertion.binding = Some(Binding { method: "jws".into(), signature: sign_binding(options, &payload), extra: Map::new() });
        assertions.push(assertion);
    }
    manifest.assertions = Some(assertions);

    let writer = container.finish(&manifest.to_json())?;
    Ok((writer, Sealed { package_id, segment_count: count as usize, plaintext_size: plaintext_len }))
}

/// Seals a plaintext held in memory and returns the package bytes.
///
/// # Errors
///
/// As [`seal`].
pub fn seal_bytes(options: &SealOptions, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let (bytes, _) = seal(options, plaintext.len() as u64, plaintext, Vec::new())?;
    Ok(bytes)
}

fn json_error(e: serde_json::Error) -> SealError {
    SealError::Manifest(manifest::ManifestError::Invalid(e.to_string()))
}

/// Signs an assertion binding: compact JWS, ES256, header `alg`, `kid` and
/// (when asked) the signer's public `jwk`.
fn sign_binding(options: &SealOptions, payload: &[u8]) -> String {
    let signer = &options.signer;
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(jws::ALG_ES256));
    header.insert("kid".into(), Value::from(signer.kid.clone()));
    if options.embed_signer_jwk {
        let public = p256::PublicKey::from(signer.signing_key.verifying_key());
        header.insert("jwk".into(), jws::public_jwk(&public, &signer.kid));
    }
    let header = serde_json::to_vec(&Value::Object(header)).unwrap_or_default();
    let signing_input = format!("{}.{}", jws::base64url_encode(&header), jws::base64url_encode(payload));
    let signature: p256::ecdsa::Signature = signer.signing_key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", jws::base64url_encode(&signature.to_bytes()))
}
