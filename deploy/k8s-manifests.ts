/**
 * The Kubernetes manifests of deploy/k8s/, rendered from the two files that already say everything
 * about a service: config/services.yaml (name, port, image, container name, and `scale`) and
 * docker-compose.yml (its environment, volumes and limits). Pure: text in, file texts out; the CLI
 * (deploy/generate-k8s.ts) writes or checks them, and packages/testing/test/k8s-manifests.test.ts
 * validates what is on disk.
 */
import { parse, stringify } from 'yaml';
import { z } from 'zod';

/** The core's drain on SIGTERM (MCP_SHUTDOWN_GRACE_MS default) plus its hard-stop margin (run-service.ts). */
export const CORE_DRAIN_MS = 8000 + 1500;
/**
 * Seconds a pod keeps serving after it is told to stop (preStop), so that kube-proxy and the
 * endpoints controller stop sending it new requests before the core starts refusing them with 503.
 */
export const PRESTOP_SLEEP_S = 5;
/** preStop + the core's drain + a margin: the kubelet's SIGKILL never cuts a drain short. */
export const TERMINATION_GRACE_S = PRESTOP_SLEEP_S + Math.ceil(CORE_DRAIN_MS / 1000) + 5;
/** The Secret every service reads its settings from (the Kubernetes form of SECRETS_FILE). */
export const SECRET_NAME = 'mcp-sse-env';
export const NAMESPACE = 'mcp-sse';

const registrySchema = z.object({
  services: z.array(
    z.object({
      name: z.string().regex(/^[a-z][a-z0-9-]*$/),
      port: z.number().int().min(1).max(65_535),
      image: z.string().min(1),
      container: z.string().regex(/^[a-z][a-z0-9-]*$/),
      // `out`: any number of replicas; `one: <why>`: exactly one, and why
      scale: z
        .string()
        .regex(/^(out|one: .+)$/, 'scale must be `out` or `one: <the reason>` (config/services.yaml header)'),
    }),
  ),
});

const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      environment: z.record(z.string(), z.string()).optional(),
      volumes: z.array(z.string()).optional(),
      deploy: z.object({
        resources: z.object({
          limits: z.object({ memory: z.string().regex(/^\d+[mg]$/), cpus: z.string().regex(/^\d+(\.\d+)?$/) }),
        }),
      }),
    }),
  ),
});

type RegistryEntry = z.infer<typeof registrySchema>['services'][number];
type ComposeService = z.infer<typeof composeSchema>['services'][string];

interface VolumeMount {
  /**
   * claim: a compose named volume (the default of `${MCP_X_DIR:-name}`), a PersistentVolumeClaim;
   * host: an absolute host path (the Docker socket, /proc), a hostPath volume;
   * file: a file of the checkout (`./config/servers.yml`), one key of a ConfigMap, or of a Secret
   * when its name says secret.
   */
  kind: 'claim' | 'host' | 'file';
  /** the Kubernetes volume name */
  volume: string;
  /** the named volume, the host path or the file's name */
  source: string;
  path: string;
  readOnly: boolean;
}

/** `${MCP_SHARED_DIR:-fs-shared}:/shared:ro` → { kind: claim, volume: fs-shared, path: /shared, readOnly } */
function parseVolume(spec: string, service: string): VolumeMount {
  const match = /^(?:\$\{[A-Z_]+:-([^}]+)\}|([^:$]+)):(\/[^:]*)(?::(ro|rw))?$/.exec(spec);
  if (!match) throw new Error(`docker-compose.yml mcp-${service}: cannot map volume "${spec}" to a Kubernetes volume`);
  const source = (match[1] ?? match[2])!;
  const mount = { source, path: match[3]!, readOnly: match[4] === 'ro' };
  if (/^[a-z][a-z0-9-]*$/.test(source)) return { kind: 'claim', volume: source, ...mount };
  if (source.startsWith('/')) {
    const name = source === '/' ? 'root' : source.replaceAll(/[^a-z0-9]+/g, '-').replaceAll(/^-|-$/g, '');
    return { kind: 'host', volume: `host-${name}`, ...mount };
  }
  if (source.startsWith('./')) {
    const file = source.slice(source.lastIndexOf('/') + 1);
    return {
      kind: 'file',
      volume: file.replaceAll(/[^a-z0-9]+/g, '-').replaceAll(/^-|-$/g, ''),
      ...mount,
      source: file,
    };
  }
  throw new Error(`docker-compose.yml mcp-${service}: cannot map volume "${spec}" to a Kubernetes volume`);
}

const isSecretFile = (mount: VolumeMount) => /secret/i.test(mount.path);
/** The ConfigMap or Secret a file mount reads: `mcp-<service>-<file>` */
const fileObjectName = (entry: RegistryEntry, mount: VolumeMount) => `${entry.container}-${mount.volume}`;

function volumeOf(entry: RegistryEntry, mount: VolumeMount): Record<string, unknown> {
  switch (mount.kind) {
    case 'claim':
      return { name: mount.volume, persistentVolumeClaim: { claimName: `${entry.container}-${mount.volume}` } };
    case 'host':
      return { name: mount.volume, hostPath: { path: mount.source } };
    case 'file': {
      const items = [{ key: mount.source, path: mount.source }];
      return isSecretFile(mount)
        ? { name: mount.volume, secret: { secretName: fileObjectName(entry, mount), items } }
        : { name: mount.volume, configMap: { name: fileObjectName(entry, mount), items } };
    }
  }
}

const volumeMountOf = (mount: VolumeMount) => ({
  name: mount.volume,
  mountPath: mount.path,
  readOnly: mount.readOnly,
  // a file replaces one path in the container, not a folder
  ...(mount.kind === 'file' ? { subPath: mount.source } : {}),
});

/** compose's `512m` / `1g` → Kubernetes `512Mi` / `1Gi` */
const memoryQuantity = (limit: string) => `${limit.slice(0, -1)}${limit.endsWith('g') ? 'Gi' : 'Mi'}`;

const labelsOf = (entry: RegistryEntry) => ({
  'app.kubernetes.io/name': entry.container,
  'app.kubernetes.io/part-of': 'mcp-sse',
  'app.kubernetes.io/component': entry.name,
});
const selectorOf = (entry: RegistryEntry) => ({ 'app.kubernetes.io/name': entry.container });

function deployment(entry: RegistryEntry, compose: ComposeService, mounts: VolumeMount[]) {
  const single = entry.scale !== 'out';
  const env: Record<string, unknown>[] = Object.entries({ ...compose.environment, PORT: String(entry.port) }).map(
    ([name, value]) => ({ name, value }),
  );
  if (!single) {
    // With more than one replica, /sse and stateful /mcp sessions need the shared session store
    // (or MCP_STATELESS=true for /mcp); it comes from the Secret when set there.
    env.push({
      name: 'MCP_SESSION_STORE',
      valueFrom: { secretKeyRef: { name: SECRET_NAME, key: 'MCP_SESSION_STORE', optional: true } },
    });
  }
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: '/health', port: 'http' },
    periodSeconds,
    timeoutSeconds: 4,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: entry.container, labels: labelsOf(entry) },
    spec: {
      replicas: single ? 1 : 2,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorOf(entry) },
      // One replica holding a ReadWriteOnce volume: the old pod must let go of it before the new one
      // can mount it (and two writers on one SQLite file is what `scale: one` avoids), so Recreate.
      strategy: single
        ? { type: 'Recreate' }
        : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labelsOf(entry) },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_S,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(single
            ? {}
            : {
                topologySpreadConstraints: [
                  {
                    maxSkew: 1,
                    topologyKey: 'kubernetes.io/hostname',
                    whenUnsatisfiable: 'ScheduleAnyway',
                    labelSelector: { matchLabels: selectorOf(entry) },
                  },
                ],
              }),
          containers: [
            {
              name: entry.name,
              image: `${entry.image}:latest`,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: entry.port, protocol: 'TCP' }],
              env,
              envFrom: [{ secretRef: { name: SECRET_NAME } }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: {
                  cpu: String(Number(compose.deploy.resources.limits.cpus)),
                  memory: memoryQuantity(compose.deploy.resources.limits.memory),
                },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
              },
              // up to 60 s to the first healthy /health (postgres waits for its database)
              startupProbe: probe(2, 30),
              readinessProbe: probe(5, 2),
              // /health is 503 while a backend is down too: restart only after a minute of it
              livenessProbe: probe(10, 6),
              // exec, not the `sleep` action (Kubernetes 1.30+): the image's coreutils have sleep
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRESTOP_SLEEP_S)] } } },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'data', mountPath: '/data' },
                ...mounts.map(volumeMountOf),
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
            { name: 'data', emptyDir: { sizeLimit: '256Mi' } },
            ...mounts.map((mount) => volumeOf(entry, mount)),
          ],
        },
      },
    },
  };
}

const service = (entry: RegistryEntry) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: entry.container, labels: labelsOf(entry) },
  spec: {
    type: 'ClusterIP',
    selector: selectorOf(entry),
    ports: [{ name: 'http', port: entry.port, targetPort: 'http', protocol: 'TCP' }],
  },
});

const pdb = (entry: RegistryEntry) => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: entry.container, labels: labelsOf(entry) },
  spec:
    entry.scale === 'out'
      ? { minAvailable: 1, selector: { matchLabels: selectorOf(entry) } }
      : // one replica: a PDB that forbade its eviction would block every node drain for good
        { maxUnavailable: 1, selector: { matchLabels: selectorOf(entry) } },
});

const hpa = (entry: RegistryEntry) => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: entry.container, labels: labelsOf(entry) },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: entry.container },
    minReplicas: 2,
    maxReplicas: 6,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
  },
});

const pvc = (entry: RegistryEntry, mount: VolumeMount) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: `${entry.container}-${mount.volume}`, labels: labelsOf(entry) },
  spec: {
    // Several replicas share the folder: that needs a ReadWriteMany storage class (NFS, CephFS, EFS…)
    accessModes: [entry.scale === 'out' ? 'ReadWriteMany' : 'ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
  },
});

const HEADER = `# Generated by \`pnpm k8s:generate\` (deploy/k8s-manifests.ts) from config/services.yaml and
# docker-compose.yml: do not edit by hand; packages/testing/test/k8s-manifests.test.ts checks both.
`;

function document(comment: string, object: unknown): string {
  const lines = comment ? `${comment.replaceAll(/^/gm, '# ')}\n` : '';
  return `---\n${lines}${stringify(object, { lineWidth: 0 })}`;
}

/** Every file of deploy/k8s/ by name, unformatted (the CLI runs prettier over them). */
export function renderManifests(servicesYaml: string, composeYaml: string): Map<string, string> {
  const registry = registrySchema.parse(parse(servicesYaml)).services;
  const compose = composeSchema.parse(parse(composeYaml, { merge: true })).services;
  const files = new Map<string, string>();
  for (const entry of registry) {
    const composeService = compose[`mcp-${entry.name}`];
    if (!composeService) throw new Error(`docker-compose.yml has no mcp-${entry.name}`);
    const mounts = (composeService.volumes ?? []).map((spec) => parseVolume(spec, entry.name));
    const why =
      entry.scale === 'out'
        ? `mcp-${entry.name}: stateless, scales out (2-6 replicas, HorizontalPodAutoscaler on CPU). Rolling
updates start a new pod, wait for its /health, then stop an old one (maxUnavailable 0, maxSurge 1);
preStop waits ${PRESTOP_SLEEP_S} s for the endpoints to drop it, then SIGTERM drains for up to ${CORE_DRAIN_MS / 1000} s
(MCP_SHUTDOWN_GRACE_MS 8000 + 1500 hard stop) within terminationGracePeriodSeconds ${TERMINATION_GRACE_S}.`
        : `mcp-${entry.name}: exactly one replica, no HorizontalPodAutoscaler: ${entry.scale.slice('one: '.length)}`;
    const docs = [
      document(why, deployment(entry, composeService, mounts)),
      document('', service(entry)),
      document('', pdb(entry)),
      ...(entry.scale === 'out' ? [document('', hpa(entry))] : []),
      ...mounts.filter((mount) => mount.kind === 'claim').map((mount) => document('', pvc(entry, mount))),
    ];
    files.set(`${entry.name}.yaml`, HEADER + docs.join(''));
  }
  files.set(
    'namespace.yaml',
    `${HEADER}${document('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } })}`,
  );
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: NAMESPACE,
    resources: ['namespace.yaml', ...registry.map((entry) => `${entry.name}.yaml`)],
    // Point these at your registry: `kustomize edit set image mcp-sse/fetch=registry.example.com/mcp-sse/fetch:1.2.3`
    images: registry.map((entry) => ({ name: entry.image, newTag: 'latest' })),
  };
  files.set(
    'kustomization.yaml',
    `${HEADER}# The settings and secrets of every service, as SECRETS_FILE for Docker (never in this folder):
#   kubectl -n ${NAMESPACE} create secret generic ${SECRET_NAME} --from-env-file="$SECRETS_FILE"
${stringify(kustomization, { lineWidth: 0 })}`,
  );
  return files;
}
