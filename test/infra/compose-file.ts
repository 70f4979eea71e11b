/**
 * docker-compose.yml and the Dockerfile, read as the tests need them: services, their environment,
 * published ports, mounts and healthchecks; the runtime stage's ENV, COPY --from=build lines,
 * WORKDIR and CMD. Parsing only what these two files use, and throwing on anything else, so a
 * construct the tests do not understand fails them instead of being misread.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml, type YamlValue } from './mini-yaml';

export const ROOT = path.resolve(__dirname, '..', '..');
export const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

export type YamlMap = { [key: string]: YamlValue };
export const asMap = (v: YamlValue | undefined, what: string): YamlMap => {
  if (v === undefined || typeof v === 'string' || Array.isArray(v)) throw new Error(`${what} is not a mapping`);
  return v;
};
export const asList = (v: YamlValue | undefined, what: string): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${what} is not a list of strings`);
  return v as string[];
};

/** `environment:` as a list of NAME=value or as a mapping. */
export const envOf = (service: YamlMap): Record<string, string> => {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      asList(env, 'environment').map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(asMap(env, 'environment')).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
};

export interface PortMapping {
  /** The host address it is published on; undefined: every interface. */
  ip: string | undefined;
  host: number;
  container: number;
}
/** "[ip:]host:container[/proto]" port mappings. */
export const ports = (service: YamlMap): PortMapping[] =>
  asList(service.ports ?? [], 'ports').map((p) => {
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.length < 2 || parts.length > 3) throw new Error(`port mapping ${p}: expected [ip:]host:container`);
    return {
      ip: parts.length === 3 ? parts[0] : undefined,
      host: Number(parts[parts.length - 2]),
      container: Number(parts[parts.length - 1]),
    };
  });

export const volumes = (service: YamlMap): Array<{ source: string; target: string; mode: string | undefined }> =>
  asList(service.volumes ?? [], 'volumes').map((v) => {
    const [source, target, mode] = v.split(':');
    return { source, target, mode };
  });

/** A healthcheck's `test` as an argv: `["CMD", ...argv]` (exec form) only. */
export const healthcheckArgv = (service: YamlMap, what: string): string[] => {
  const test = asList(asMap(service.healthcheck, `${what}.healthcheck`).test, `${what}.healthcheck.test`);
  if (test[0] !== 'CMD') throw new Error(`${what}.healthcheck.test: expected the ["CMD", ...] form`);
  return test.slice(1);
};

export const compose = asMap(parseYaml(read('docker-compose.yml')), 'docker-compose.yml');
export const services = asMap(compose.services, 'services');
export const service = (name: string): YamlMap => asMap(services[name], `services.${name}`);

/** The Dockerfile's last stage (the image that runs): its ENV, COPY --from lines, WORKDIR and CMD. */
export function dockerfileRuntime(text = read('Dockerfile')): {
  from: string;
  env: Record<string, string>;
  copiesFromBuild: Array<{ source: string; target: string }>;
  workdir: string;
  cmd: string[];
  runs: string[];
} {
  // Join continuation lines, drop comments.
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages[stages.length - 1]?.push(line);
  }
  const stage = stages[stages.length - 1];
  if (!stage) throw new Error('Dockerfile: no FROM');
  const result = {
    from: stage[0].split(/\s+/)[1],
    env: {} as Record<string, string>,
    copiesFromBuild: [] as Array<{ source: string; target: string }>,
    workdir: '/',
    cmd: [] as string[],
    runs: [] as string[],
  };
  for (const line of stage.slice(1)) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = line.slice(instruction.length).trim();
    switch (instruction.toUpperCase()) {
      case 'ENV':
        // ENV NAME=value [NAME=value …], unquoted values only (what our Dockerfile uses).
        for (const pair of rest) {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/.exec(pair);
          if (!m) throw new Error(`Dockerfile ENV: cannot read ${pair}`);
          result.env[m[1]] = m[2];
        }
        break;
      case 'COPY':
        if (rest[0]?.startsWith('--from=')) result.copiesFromBuild.push({ source: rest[1], target: rest[2] });
        break;
      case 'WORKDIR':
        result.workdir = args;
        break;
      case 'CMD':
        result.cmd = JSON.parse(args) as string[];
        break;
      case 'RUN':
        result.runs.push(args);
        break;
    }
  }
  return result;
}
