import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadEnv } from '../../src/config';

const file = path.resolve(__dirname, '..', '..', 'docker-compose.yml');

describe('docker-compose.yml', () => {
  it('parses and describes PostgreSQL, Temporal, its Web UI and the service roles', () => {
    const compose = parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'api',
      'postgres',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    // The same versions as `npm run start:cluster`: Temporal's server and admin-tools images, no auto-setup.
    assert.equal(compose.services.temporal.image, 'temporalio/server:1.29.1');
    assert.equal(compose.services['temporal-schema'].image, 'temporalio/admin-tools:1.29.1');
    assert.match(compose.services['temporal-schema'].command[0], /postgresql\/v12\/visibility\/versioned/);
    assert.ok(!JSON.stringify(compose).includes('auto-setup'));
    assert.equal(compose.services.worker.deploy.replicas, 2);
    assert.equal(compose.services.api.deploy.replicas, 2);
    assert.deepEqual(compose.services.worker.command, ['npm', 'run', 'worker']);
    assert.deepEqual(compose.services.api.command, ['npm', 'run', 'api']);
    assert.equal(compose.services['temporal-ui'].environment.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('gives the service an environment that passes our own configuration check', () => {
    const compose = parse(readFileSync(file, 'utf8'), { merge: true });
    for (const role of ['worker', 'api']) {
      const environment = Object.fromEntries(
        Object.entries(compose.services[role].environment as Record<string, string>).map(([k, v]) => [
          k,
          String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
        ]),
      );
      const env = loadEnv(environment);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
      assert.match(env.DATABASE_URL ?? '', /^postgres:\/\/.+@postgres:5432\//);
    }
  });

  it('is accepted by `docker compose config` where Docker Compose is installed', function () {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      // No Compose here (this machine has only the docker client): the two tests above
      // are the check. Reported, not skipped.
      console.log('      (docker compose is not installed; validated with the YAML parser only)');
      return;
    }
    const result = spawnSync('docker', ['compose', '-f', file, 'config', '--quiet'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});
