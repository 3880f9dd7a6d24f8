// Types of the <valise-viewer> element and its events.

/** A label as the viewer reports it. */
export interface ValiseLabel {
  tlp: 'CLEAR' | 'GREEN' | 'AMBER' | 'AMBER+STRICT' | 'RED';
  marking: { system: string; value: string } | null;
}

/** A reason of a refusal, or a warning. */
export interface ValiseReason {
  /** Stable code, such as "not_recipient" or "offline_lease_expired". */
  code: string;
  message: string;
  nextStep: string;
}

/** The rights the reader has on the open package. */
export interface ValiseRights {
  view: boolean;
  print: boolean;
  copy: boolean;
  forward: boolean;
  export: boolean;
  watermark: boolean;
  [more: string]: unknown;
}

/** `detail` of `valise-open`: never the document's content. */
export interface ValiseOpenDetail {
  packageId: string;
  label: ValiseLabel | null;
  mediaType: string;
  fileName: string | null;
  originator: { org: string | null; author: string | null };
  rights: ValiseRights;
  warnings: ValiseReason[];
}

/** `detail` of `valise-denied`. */
export interface ValiseDeniedDetail {
  packageId: string | null;
  message: string;
  reasons: ValiseReason[];
}

/** `detail` of `valise-error`. */
export interface ValiseErrorDetail {
  /** Error class, such as "MalformedPackageError", "IntegrityError" or "InternalError". */
  name: string;
  message: string;
  reasons: ValiseReason[];
}

export interface ValiseViewerEventMap {
  'valise-open': CustomEvent<ValiseOpenDetail>;
  'valise-denied': CustomEvent<ValiseDeniedDetail>;
  'valise-error': CustomEvent<ValiseErrorDetail>;
}

/**
 * `<valise-viewer src="report.tdf" config="config.json">`: opens a protected
 * package in the page. Attributes: `src` (package URL), `config` (viewer
 * configuration URL, default "config.json").
 */
export declare class ValiseViewerElement extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The configuration URL, resolved against the page. */
  readonly configUrl: string;
  /** Opens package bytes given by the page. */
  open(bytes: Uint8Array | ArrayBuffer, name?: string): Promise<void>;
  /** Zeroizes the unlocked key and closes the document. */
  lock(): Promise<void>;
  addEventListener<K extends keyof ValiseViewerEventMap>(
    type: K,
    listener: (this: ValiseViewerElement, event: ValiseViewerEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** The element's tag name, "valise-viewer". */
export declare const TAG_NAME: 'valise-viewer';

declare global {
  interface HTMLElementTagNameMap {
    'valise-viewer': ValiseViewerElement;
  }
  interface HTMLElementEventMap extends ValiseViewerEventMap {}
}
