import { stopSharedEnvironment } from './environment';

/** Mocha global fixture: stop every shared server once the whole suite is done. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedEnvironment();
}
