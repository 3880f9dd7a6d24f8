// How each control is really enforced, so the viewer can say so honestly:
// who can decrypt and whether the content is the originator's are
// cryptographic; checks the viewer runs against an organization-wide key or
// the clock hold only in an honest viewer; print and copy blocking and the
// watermark are deterrents that a determined reader with developer tools
// defeats.

/** The enforcement kinds and their explanations. */
export const CONTROL_KINDS = {
  cryptographic: {
    label: 'cryptographic',
    explanation: 'Enforced by encryption and signatures: it holds whatever software the reader uses.',
  },
  'honest-viewer': {
    label: 'honest viewer',
    explanation: 'Enforced by this viewer: a modified viewer holding the same key could ignore it.',
  },
  deterrent: {
    label: 'deterrent',
    explanation: 'Discourages and records misuse: a determined reader with developer tools can defeat it.',
  },
};

const FORWARD_TEXT = {
  organization: 'Forward within your organization',
  organizationAndClients: "Forward within your organization and to its clients",
  community: 'Forward within the community',
  anyone: 'Forward to anyone',
};

/**
 * Lists the rows of the rights panel from the effective rights:
 * `[{ name, allowed, kind, text, state? }]`; `state` replaces "allowed" where
 * the row is an obligation rather than a permission.
 */
export function rightsRows(rights) {
  const rows = [
    { name: 'view', allowed: true, kind: 'cryptographic', text: 'View' },
    { name: 'print', allowed: Boolean(rights.print), kind: 'deterrent', text: 'Print' },
    { name: 'copy', allowed: Boolean(rights.copy), kind: 'deterrent', text: 'Copy text' },
    { name: 'forward', allowed: Boolean(rights.forward), kind: 'honest-viewer', text: FORWARD_TEXT[rights.forwardScope] ?? 'Forward' },
    { name: 'export', allowed: Boolean(rights.export), kind: 'honest-viewer', text: 'Export the decrypted file' },
  ];
  if (rights.watermark) {
    rows.push({ name: 'watermark', allowed: true, kind: 'deterrent', text: 'Watermark with your name', state: 'applied' });
  }
  if (rights.notAfter) {
    rows.push({ name: 'notAfter', allowed: true, kind: 'honest-viewer', text: `Readable until ${formatTime(rights.notAfter)}`, state: 'enforced' });
  }
  if (rights.eventsRequired) {
    rows.push({ name: 'events', allowed: true, kind: 'honest-viewer', text: 'Access is reported to the originator', state: 'required' });
  }
  return rows;
}

/** Formats an RFC 3339 time for the reader's locale. */
export function formatTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
