// A bare WebCrypto worker for the two-worker comparison: decrypts the
// segments it is given, and hashes each encrypted segment as the streaming
// path does, `inFlight` at a time, then posts the milliseconds it took.
self.addEventListener('message', async ({ data: { key, segments, inFlight } }) => {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < segments.length) {
      const segment = segments[next];
      next += 1;
      await Promise.all([
        crypto.subtle.decrypt({ name: 'AES-GCM', iv: segment.iv }, key, segment.data),
        crypto.subtle.digest('SHA-256', segment.data),
      ]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  self.postMessage(performance.now() - started);
});
