/**
 * The production image (Dockerfile), read without Docker (this machine has none): a build
 * stage that compiles, a runtime stage with production dependencies only, on Node's current
 * LTS, as a non-root user, with a health check, running the compiled API. That the compiled
 * entry points exist after `npm run build` is checked by test/e2e/production-build.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execForm, parseDockerfile } from '../support/dockerfile';

const ROOT = path.resolve(__dirname, '..', '..');

describe('Dockerfile', () => {
  const { stages } = parseDockerfile();
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    engines: { node: string };
  };
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages.at(-1)!;
  const runs = (stage: { instructions: { keyword: string; args: string }[] }) =>
    stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  it('when built, then a build stage compiles everything and a runtime stage holds only its output and production dependencies', () => {
    assert.deepEqual(
      stages.map((s) => s.name),
      ['build', 'runtime'],
    );
    assert.ok(build);
    assert.ok(
      runs(build).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit')),
      'the build stage installs every dependency',
    );
    assert.ok(
      runs(build).some((r) => /\bnpm run build\b/.test(r)),
      'the build stage runs npm run build (tsc, the web app, the workflow bundle)',
    );
    assert.ok(
      runs(runtime).some((r) => /^npm ci\b.*--omit=dev/.test(r)),
      'the runtime stage installs production dependencies only',
    );
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    assert.ok(copies.includes('--from=build /app/dist ./dist'), `the runtime stage copies the build's dist/: ${copies.join('; ')}`);
    assert.ok(!copies.some((c) => /^\.\s/.test(c)), 'the runtime stage never copies the sources');
    assert.ok(!runs(runtime).some((r) => /npm run build|\btsx\b|\bvite\b/.test(r)), 'nothing is built at runtime');
    assert.ok(runtime.instructions.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args)));
  });

  it("when dependencies are installed, then each stage has patches/ first, so npm ci's postinstall patches the SDK as on a developer's machine", () => {
    assert.equal(pkg.scripts.postinstall, 'patch-package');
    assert.ok(pkg.dependencies['patch-package'], 'patch-package is a production dependency: the runtime stage installs with --omit=dev');
    for (const stage of [build!, runtime]) {
      const patches = stage.instructions.findIndex((i) => i.keyword === 'COPY' && i.args === 'patches ./patches');
      const install = stage.instructions.findIndex((i) => i.keyword === 'RUN' && /^npm ci\b/.test(i.args));
      assert.ok(patches >= 0 && patches < install, `stage ${stage.name} copies patches/ before npm ci`);
    }
  });

  it("when it runs, then on Node's current LTS (24, slim), as the non-root user node", () => {
    for (const stage of stages) assert.equal(stage.image, 'node:24-bookworm-slim', `stage ${stage.name}`);
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.equal(users.at(-1)?.args, 'node');
    const lastUser = runtime.instructions.lastIndexOf(users.at(-1)!);
    assert.ok(
      runtime.instructions.slice(lastUser).every((i) => i.keyword !== 'RUN'),
      'nothing runs as root after USER node',
    );
    // package.json says which Node versions are supported: the one tested here (20) and the image's.
    const engines = pkg.engines.node;
    assert.match(engines, /\^20\./);
    assert.match(engines, /\^24\./);
    assert.ok(engines.includes(`^${process.versions.node.split('.')[0]}.`), `this Node (${process.version}) is a supported one: ${engines}`);
  });

  it('when the API is unhealthy, then the HEALTHCHECK fails: GET /healthz with node, since slim has no curl', () => {
    const checks = runtime.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
    assert.equal(checks.length, 1);
    assert.match(checks[0].args, /--interval=\S+/);
    assert.match(checks[0].args, /--start-period=\S+/);
    const command = execForm(checks[0].args);
    assert.equal(command[0], 'node');
    assert.equal(command[1], '-e');
    assert.match(command[2], /fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| 3000\) \+ '\/healthz'\)/);
    assert.match(command[2], /process\.exit\(r\.ok \? 0 : 1\)/);
    assert.ok(!/curl|wget/.test(checks[0].args));
  });

  it('when started without a command, then it runs the compiled API, whose source is part of the production build', () => {
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1)!;
    assert.deepEqual(execForm(cmd.args), ['node', 'dist/src/main.js', 'api']);
    // dist/src/main.js is tsc's output of src/main.ts under tsconfig.build.json.
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
      include: string[];
      exclude?: string[];
    };
    assert.equal(tsconfig.compilerOptions.outDir, 'dist');
    assert.equal(tsconfig.compilerOptions.rootDir, '.');
    for (const source of ['src/main.ts', 'src/migrate.ts']) {
      assert.ok(existsSync(path.join(ROOT, source)), source);
      assert.ok(
        tsconfig.include.some((dir) => source.startsWith(`${dir}/`)),
        `${source} is compiled`,
      );
      assert.ok(!(tsconfig.exclude ?? []).some((dir) => source.startsWith(`${dir}/`)), `${source} is not excluded`);
    }
  });

  it('when the build context is sent, then node_modules, the data directory and an old dist/ stay out of it', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.data', 'dist', '.env']) assert.ok(ignored.includes(entry), entry);
  });
});
