import { installQuietRuntime, stopSharedEnvironment } from './environment';

// Before any test starts a worker: the Temporal runtime can be configured only once.
installQuietRuntime();

/** Mocha global fixture: stop every shared server once the whole suite is done. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedEnvironment();
}
