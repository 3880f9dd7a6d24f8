// Entry point of the portal: loads the configuration and the viewer module,
// then hands over to the controller.
import { App } from './app.js';
import { loadConfig } from './config.js';
import { keepDecryptionWorkersReady, loadCore, onInternalError } from './core.js';
import { registerServiceWorker } from './offline.js';
import { installGlobalErrorHandlers, showFatal } from './ui/fatal.js';

installGlobalErrorHandlers();
onInternalError(showFatal);

async function boot() {
  const [config, { version }] = await Promise.all([loadConfig(), loadCore()]);
  document.documentElement.dataset.coreVersion = version;
  document.getElementById('loading').hidden = true;
  await new App(config).start();
  // A large package then opens in workers that have already started.
  keepDecryptionWorkersReady();
}

boot().catch(showFatal);
// Offline use is an addition: a portal without a service worker still works.
registerServiceWorker().catch((error) => console.warn('The service worker could not be registered:', error));
