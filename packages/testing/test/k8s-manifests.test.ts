import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { baseConfigSchema } from '@mcp-sse/core';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { drift, expectedManifests } from '../../../deploy/generate-k8s.js';
import { PRESTOP_SLEEP_S } from '../../../deploy/k8s-manifests.js';

/**
 * deploy/k8s/ is generated from config/services.yaml and docker-compose.yml; this checks that it is
 * up to date (drift), that every object is valid against the Kubernetes OpenAPI schemas (the
 * `kubernetes-models` package bundles them: the kubeconform check, offline), and the structure that
 * schemas cannot see: selectors match labels, probes hit /health on the port the registry gives,
 * limits and hardening are set, secrets only referenced, PDB/HPA aim at existing Deployments.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const k8sDir = `${root}deploy/k8s/`;

interface RegistryEntry {
  name: string;
  port: number;
  image: string;
  container: string;
  scale: string;
}
const registry = (parse(readFileSync(`${root}config/services.yaml`, 'utf8')) as { services: RegistryEntry[] }).services;

type Json = Record<string, unknown>;
interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Json;
}

/** The schema class of every kind the manifests may hold, by apiVersion/kind. */
const schemas: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Namespace': Namespace,
};

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(k8sDir).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(`${k8sDir}${file}`, 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const value = doc.toJS() as Manifest | null;
      if (value) manifests.push({ ...value, file });
    }
  }
  return manifests;
}

const subsetOf = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

/** Secret-looking settings must come from a Secret, never be written in a manifest. */
const SECRET_NAME = /KEY|TOKEN|PASSWORD|SECRET|DATABASE_URL|CREDENTIAL|SESSION_STORE/;

/** Every structural problem of a set of manifests, as readable lines (empty: all good). */
function problems(manifests: Manifest[]): string[] {
  const found: string[] = [];
  const fail = (manifest: Manifest, message: string) =>
    found.push(`${manifest.file} ${manifest.kind}/${manifest.metadata.name}: ${message}`);
  const deployments = manifests.filter((m) => m.kind === 'Deployment');
  const minGraceS = baseConfigSchema.parse({}).MCP_SHUTDOWN_GRACE_MS / 1000 + 1.5 + PRESTOP_SLEEP_S;

  for (const manifest of manifests) {
    const Schema = schemas[`${manifest.apiVersion}/${manifest.kind}`];
    if (!Schema) {
      fail(manifest, `unexpected apiVersion/kind ${manifest.apiVersion}/${manifest.kind}`);
      continue;
    }
    try {
      const { file: _file, ...object } = manifest;
      new Schema(object as never).validate();
    } catch (error) {
      fail(manifest, `schema: ${(error as Error).message}`);
    }
    if (manifest.kind === 'Secret' || manifest.kind === 'ConfigMap') fail(manifest, 'settings belong in the Secret');
  }

  for (const deployment of deployments) {
    const entry = registry.find((e) => e.container === deployment.metadata.name);
    if (!entry) {
      fail(deployment, 'no service of config/services.yaml has this name');
      continue;
    }
    const spec = deployment.spec as {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      strategy: { type: string; rollingUpdate?: { maxUnavailable: number; maxSurge: number } };
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          terminationGracePeriodSeconds: number;
          securityContext?: { runAsNonRoot?: boolean };
          containers: {
            image: string;
            ports: { name: string; containerPort: number }[];
            env?: { name: string; value?: string; valueFrom?: Json }[];
            envFrom?: { secretRef?: { name: string } }[];
            resources?: { limits?: { cpu?: string; memory?: string }; requests?: { cpu?: string; memory?: string } };
            securityContext?: {
              readOnlyRootFilesystem?: boolean;
              allowPrivilegeEscalation?: boolean;
              capabilities?: { drop?: string[] };
            };
            startupProbe?: { httpGet?: { path: string; port: string | number } };
            readinessProbe?: { httpGet?: { path: string; port: string | number } };
            livenessProbe?: { httpGet?: { path: string; port: string | number } };
            volumeMounts?: { name: string }[];
          }[];
          volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
        };
      };
    };
    if (!subsetOf(spec.selector.matchLabels, spec.template.metadata.labels)) {
      fail(deployment, 'selector does not match the pod labels');
    }
    const pod = spec.template.spec;
    if (pod.securityContext?.runAsNonRoot !== true) fail(deployment, 'runAsNonRoot is not set');
    if (!(pod.terminationGracePeriodSeconds > minGraceS)) {
      fail(deployment, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} <= drain ${minGraceS} s`);
    }
    if (pod.containers.length !== 1) fail(deployment, 'one container expected');
    for (const container of pod.containers) {
      if (container.image !== `${entry.image}:latest`) fail(deployment, `image ${container.image}`);
      const ports = container.ports.map((p) => p.containerPort);
      if (ports.length !== 1 || ports[0] !== entry.port)
        fail(deployment, `container port ${ports.join()} != ${entry.port}`);
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const probe = container[kind]?.httpGet;
        const port =
          typeof probe?.port === 'string'
            ? container.ports.find((p) => p.name === probe.port)?.containerPort
            : probe?.port;
        if (probe?.path !== '/health' || port !== entry.port)
          fail(deployment, `${kind} is not GET /health on ${entry.port}`);
      }
      const { limits, requests } = container.resources ?? {};
      if (!limits?.cpu || !limits.memory || !requests?.cpu || !requests.memory)
        fail(deployment, 'requests/limits missing');
      const security = container.securityContext;
      if (
        security?.readOnlyRootFilesystem !== true ||
        security.allowPrivilegeEscalation !== false ||
        security.capabilities?.drop?.join() !== 'ALL'
      ) {
        fail(deployment, 'securityContext: readOnlyRootFilesystem, no privilege escalation, drop ALL expected');
      }
      for (const variable of container.env ?? []) {
        // a *_FILE variable names where a secret is mounted, which is not a secret itself
        if (SECRET_NAME.test(variable.name) && !variable.name.endsWith('_FILE') && variable.value !== undefined)
          fail(deployment, `${variable.name} inlined`);
      }
      if (container.envFrom?.some((source) => source.secretRef?.name === 'mcp-sse-env') !== true) {
        fail(deployment, 'does not read the mcp-sse-env Secret');
      }
      const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
      for (const mount of container.volumeMounts ?? []) {
        if (!volumes.has(mount.name)) fail(deployment, `mounts undeclared volume ${mount.name}`);
      }
    }
    for (const volume of pod.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (claim && !manifests.some((m) => m.kind === 'PersistentVolumeClaim' && m.metadata.name === claim)) {
        fail(deployment, `claims missing PersistentVolumeClaim ${claim}`);
      }
    }
    const hpa = manifests.find(
      (m) =>
        m.kind === 'HorizontalPodAutoscaler' && (m.spec['scaleTargetRef'] as Json)['name'] === deployment.metadata.name,
    );
    if (entry.scale === 'out') {
      if (
        spec.strategy.type !== 'RollingUpdate' ||
        spec.strategy.rollingUpdate?.maxUnavailable !== 0 ||
        spec.strategy.rollingUpdate.maxSurge !== 1
      ) {
        fail(deployment, 'rolling update with maxUnavailable 0 and maxSurge 1 expected');
      }
      if (!hpa) fail(deployment, 'scales out but has no HorizontalPodAutoscaler');
    } else {
      if (spec.replicas !== 1) fail(deployment, `scale is "one" but replicas is ${spec.replicas}`);
      if (hpa) fail(deployment, 'scale is "one" but it has a HorizontalPodAutoscaler');
    }
    const services = manifests.filter((m) => m.kind === 'Service' && m.metadata.name === entry.container);
    const svcPorts = services.flatMap((s) => (s.spec['ports'] as { port: number }[]).map((p) => p.port));
    if (svcPorts.join() !== String(entry.port)) fail(deployment, `Service port ${svcPorts.join()} != ${entry.port}`);
    if (!manifests.some((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === entry.container)) {
      fail(deployment, 'no PodDisruptionBudget');
    }
  }

  const podLabels = deployments.map(
    (d) => (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels,
  );
  for (const manifest of manifests) {
    if (manifest.kind === 'Service') {
      const selector = manifest.spec['selector'] as Record<string, string> | undefined;
      if (podLabels.filter((labels) => subsetOf(selector, labels)).length !== 1)
        fail(manifest, 'selects no Deployment (or several)');
    }
    if (manifest.kind === 'PodDisruptionBudget') {
      const selector = (manifest.spec['selector'] as { matchLabels?: Record<string, string> }).matchLabels;
      if (podLabels.filter((labels) => subsetOf(selector, labels)).length !== 1)
        fail(manifest, 'selects no Deployment (or several)');
    }
    if (manifest.kind === 'HorizontalPodAutoscaler') {
      const target = manifest.spec['scaleTargetRef'] as { apiVersion: string; kind: string; name: string };
      if (
        target.kind !== 'Deployment' ||
        target.apiVersion !== 'apps/v1' ||
        !deployments.some((d) => d.metadata.name === target.name)
      ) {
        fail(manifest, `targets ${target.kind}/${target.name}, which is not a Deployment here`);
      }
    }
  }
  return found;
}

describe('deploy/k8s', () => {
  it('is what `pnpm k8s:generate` makes of config/services.yaml and docker-compose.yml (no drift)', async () => {
    expect(drift(await expectedManifests())).toEqual([]);
  });

  it('holds one Deployment per registry service, each valid and hardened (no problems found)', () => {
    const manifests = loadManifests();
    expect(
      manifests
        .filter((m) => m.kind === 'Deployment')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(registry.map((e) => e.container).sort());
    expect(problems(manifests)).toEqual([]);
  });

  it('lists every manifest file and every image in kustomization.yaml', () => {
    const kustomization = parse(readFileSync(`${k8sDir}kustomization.yaml`, 'utf8')) as {
      resources: string[];
      images: { name: string }[];
      namespace: string;
    };
    const files = readdirSync(k8sDir).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.images.map((image) => image.name).sort()).toEqual(registry.map((e) => e.image).sort());
    expect(kustomization.namespace).toBe('mcp-sse');
  });

  it('finds the mistakes it is there to find', () => {
    const broken = structuredClone(loadManifests());
    const deployment = broken.find((m) => m.kind === 'Deployment' && m.metadata.name === 'mcp-fetch')!;
    const pod = (deployment.spec['template'] as { spec: { containers: Json[]; securityContext: Json } }).spec;
    (pod.containers[0]!['readinessProbe'] as { httpGet: { port: number } }).httpGet.port = 9999;
    (pod.containers[0]!['env'] as Json[]).push({ name: 'MCP_API_KEYS', value: 'inline' });
    delete (pod.containers[0]!['resources'] as Json)['limits'];
    pod.securityContext['runAsNonRoot'] = false;
    deployment.spec['replicas'] = 'two';
    const hpa = broken.find((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === 'mcp-fetch')!;
    (hpa.spec['scaleTargetRef'] as Json)['name'] = 'mcp-nothing';
    const sqlite = broken.find((m) => m.kind === 'Deployment' && m.metadata.name === 'mcp-sqlite')!;
    sqlite.spec['replicas'] = 3;

    const found = problems(broken);
    const expectOne = (pattern: string) =>
      expect(
        found.filter((line) => line.includes(pattern)),
        pattern,
      ).toHaveLength(1);
    expectOne('Deployment/mcp-fetch: schema: data/spec/replicas must be integer');
    expectOne('Deployment/mcp-fetch: readinessProbe is not GET /health on 8002');
    expectOne('Deployment/mcp-fetch: MCP_API_KEYS inlined');
    expectOne('Deployment/mcp-fetch: requests/limits missing');
    expectOne('Deployment/mcp-fetch: runAsNonRoot is not set');
    expectOne('Deployment/mcp-fetch: scales out but has no HorizontalPodAutoscaler');
    expectOne('HorizontalPodAutoscaler/mcp-fetch: targets Deployment/mcp-nothing');
    expectOne('Deployment/mcp-sqlite: scale is "one" but replicas is 3');
    expect(found).toHaveLength(8);
  });
});
