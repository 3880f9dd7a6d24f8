//! TypeScript declarations of the plain objects the exports return and
//! throw, declared once here and emitted into the generated `.d.ts`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The tagged object every failing export throws; www/src/errors.js maps `kind` to a class. */
export interface BindingError {
  kind: "KeyRequired" | "KeyMismatch" | "MalformedPackage" | "Integrity" | "AccessDenied" | "Unsupported" | "Passphrase" | "Internal";
  message: string;
  reasons?: Reason[];
  /** On a denial after the package verified: its event facts. */
  event?: EventContext;
}

/** One reason of a denial or a warning, as the decision point states it. */
export interface Reason {
  code: string;
  message: string;
  nextStep: string;
}

export interface TrustListSummary {
  community: string;
  communityName: string;
  version: number;
  issuedAt: string;
  nextUpdate: string;
  stale: boolean;
  rootFingerprint: string;
  members: number;
}

export interface IdentitySummary {
  person: string;
  name: string;
  organization: string;
  organizationName: string | null;
  community: string;
  keyId: string;
  attributes: string[];
  notAfter: string;
}

export interface PackageSummary {
  packageId: string;
  keyIds: string[];
  mediaType: string | null;
}

export interface OpenOptions {
  nowMs: number;
  lastSeenMs?: number;
  stale?: "warn" | "deny";
  highestTrustVersionSeen?: number;
  /** When the trust list was last fetched from the network (ms since the epoch). */
  trustFetchedMs?: number;
}

export type ForwardScope = "none" | "organization" | "organizationAndClients" | "community" | "anyone";

export interface Rights {
  view: boolean;
  print: boolean;
  copy: boolean;
  forward: boolean;
  forwardScope: ForwardScope;
  forwardOrgs: string[];
  export: boolean;
  watermark: boolean;
  notBefore: string | null;
  notAfter: string | null;
  offlineLeaseSeconds: number | null;
  eventsRequired: boolean;
  eventsUrl: string | null;
}

export interface Label {
  tlp: "CLEAR" | "GREEN" | "AMBER" | "AMBER+STRICT" | "RED";
  packageTlp: "CLEAR" | "GREEN" | "AMBER" | "AMBER+STRICT" | "RED";
  marking: { system: string; value: string } | null;
  mappedTlp: string | null;
}

export interface OpenedMetadata {
  packageId: string;
  community: string | null;
  label: Label | null;
  rights: Rights;
  watermark: string | null;
  warnings: Reason[];
  obligations: { code: string; url?: string; seconds?: number }[];
  originator: { org: string | null; organizationName: string | null; author: string | null; kid: string | null };
  verified: { originatorSignature: boolean; contentDigests: boolean };
  mediaType: string;
  fileName: string | null;
  created: string | null;
  keyId: string | null;
  plaintextSize: number;
  segmentCount: number;
}
/** The event facts of a verified package; `eventsUrl` is the collector its rights name. */
export interface EventContext {
  packageId: string;
  label: { tlp: string; marking: string | null } | null;
  originator: { org: string; kid: string | null } | null;
  eventsUrl: string | null;
  eventsRequired: boolean;
}

/** An access event to sign; `kind` is the last part of the CloudEvents type. */
export interface EventDraftInput {
  kind: "opened" | "denied" | "print_blocked" | "printed" | "copy_blocked" | "exported" | "forwarded" | "watermark_removed" | "expired";
  packageId: string;
  decision: "permit" | "deny";
  reasons?: string[];
  rights: { view: boolean; print: boolean; copy: boolean; forward: boolean; export: boolean; watermark: boolean } | null;
  label: { tlp: string; marking: string | null } | null;
  originator: { org: string; kid: string | null } | null;
}

/** The chain state of this browser profile, as the outbox stores it. */
export interface EventChain {
  agent: string;
  seq: number;
  prevHash: string;
}

/** A signed event: `event` is its canonical JSON; store `chain` with it. */
export interface SignedEvent {
  id: string;
  kind: EventDraftInput["kind"];
  event: string;
  chain: EventChain;
}
"#;
