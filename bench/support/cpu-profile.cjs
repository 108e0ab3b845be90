/**
 * `--cpu-prof` for processes started with NODE_OPTIONS (where that flag is not allowed):
 * loaded by `NODE_OPTIONS=--require …/cpu-profile.cjs` when BENCH_CPU_PROF names a
 * directory, it profiles the process from start to exit and writes
 * <dir>/<role>-<pid>.cpuprofile (summarise with bench/support/profile-summary.ts).
 */
/* global process, require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload, loaded before tsx */
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  const role = (process.argv.find((a) => /^(all|worker|api)$/.test(a)) ?? path.basename(process.argv[1] ?? 'node')).replace(/\W+/g, '_');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(path.join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
