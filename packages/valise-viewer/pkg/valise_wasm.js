// Loads the viewer's WebAssembly module for the npm package. The package
// carries wasm-pack's bundler build in wasm/; a bundler with WebAssembly
// module support can import wasm/valise_wasm.js directly, and this file lets
// the same build run as plain ES modules in a browser, with no bundler: it
// fetches and instantiates the module itself, with the same interface as the
// portal's build (a default `init` function and the named exports).
import * as bindings from '../wasm/valise_wasm_bg.js';

export * from '../wasm/valise_wasm_bg.js';

let ready = null;

/** Fetches and instantiates the module once; the argument is ignored. */
export default function init() {
  ready ??= (async () => {
    const url = new URL('../wasm/valise_wasm_bg.wasm', import.meta.url);
    const imports = { './valise_wasm_bg.js': bindings };
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    const { instance } = await WebAssembly.instantiateStreaming(response, imports);
    bindings.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start?.();
    return instance.exports;
  })();
  return ready;
}
