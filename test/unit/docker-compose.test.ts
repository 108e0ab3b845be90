import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadEnv } from '../../src/config';

const file = path.resolve(__dirname, '..', '..', 'docker-compose.yml');

describe('docker-compose.yml', () => {
  it('parses and describes PostgreSQL, Temporal, its Web UI and the service roles', () => {
    const compose = parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'api',
      'migrate',
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
    // The compiled entry points of the image (Dockerfile), not tsx.
    assert.deepEqual(compose.services.worker.command, ['node', 'dist/src/main.js', 'worker']);
    assert.deepEqual(compose.services.api.command, ['node', 'dist/src/main.js', 'api']);
    assert.deepEqual(compose.services.migrate.command, ['node', 'dist/src/migrate.js']);
    assert.equal(compose.services['temporal-ui'].environment.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('gives the service an environment that passes our own configuration check', () => {
    const compose = parse(readFileSync(file, 'utf8'), { merge: true });
    for (const role of ['migrate', 'worker', 'api']) {
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

  it('when the stack starts, then the migrations run once as their own step before any worker or API, all from one image', () => {
    const compose = parse(readFileSync(file, 'utf8'), { merge: true });
    const { migrate, worker, api, postgres } = compose.services;
    assert.ok(postgres.healthcheck, 'PostgreSQL has a health check');
    assert.deepEqual(migrate.depends_on.postgres, { condition: 'service_healthy' });
    assert.equal(migrate.restart, 'no', 'a one-shot service');
    assert.equal(migrate.deploy?.replicas ?? 1, 1);
    for (const service of [worker, api]) {
      assert.deepEqual(service.depends_on.migrate, { condition: 'service_completed_successfully' });
      assert.deepEqual(service.depends_on['temporal-namespace'], { condition: 'service_completed_successfully' });
      assert.equal(service.image, migrate.image, 'the same image (and so the same version) for every role');
      assert.equal(service.build, migrate.build);
    }
    assert.match(migrate.image, /inbox-autopilot:1\.0\.0/);
    // The image is built from this repository's Dockerfile (test/unit/dockerfile.test.ts).
    assert.equal(migrate.build, '.');
  });

  it('when a worker or API replica is unhealthy, then its health check says so: /healthz for the API, /metrics for the worker', () => {
    const compose = parse(readFileSync(file, 'utf8'), { merge: true });
    const probe = (service: string) => (compose.services[service].healthcheck.test as string[]).join(' ');
    assert.match(probe('api'), /^CMD node -e .*fetch\('http:\/\/127\.0\.0\.1:3000\/healthz'\)/);
    assert.equal(compose.services.api.environment.PORT, '3000');
    assert.match(probe('worker'), /^CMD node -e .*fetch\('http:\/\/127\.0\.0\.1:9464\/metrics'\)/);
    assert.equal(compose.services.worker.environment.METRICS_PORT, '9464');
    assert.equal(compose.services.migrate.healthcheck.disable, true);
    for (const service of ['api', 'worker']) assert.ok(compose.services[service].healthcheck.start_period, `${service}: a start period`);
  });

  it('when a service runs a compiled entry point, then its source is part of the production build', () => {
    const compose = parse(readFileSync(file, 'utf8'), { merge: true });
    const root = path.resolve(__dirname, '..', '..');
    for (const service of ['migrate', 'worker', 'api']) {
      const entry = (compose.services[service].command as string[])[1];
      assert.match(entry, /^dist\/src\/[a-z-]+\.js$/);
      const source = path.join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      assert.ok(existsSync(source), `${service}: ${entry} is compiled from ${path.relative(root, source)}`);
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
