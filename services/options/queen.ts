import { LIMITS } from '../../contracts/common.js';
import { commonOptions, defaultStateDir, heartbeatInterval } from './common.js';
import type { OptionSpecs } from './spec.js';

export const queenOptions = {
  ...commonOptions,
  port: { kind: 'port', default: '7833', description: 'port to listen on' },
  'advertise-url': { kind: 'url', description: 'queen address sent to hives (default http://<host>:<port>)' },
  'hives-config': {
    kind: 'path',
    default: '~/.ssh/config',
    description: 'SSH config whose Host entries are the hives',
  },
  discovery: {
    kind: 'boolean',
    default: 'true',
    description: 'pull discovery of the hives config (--no-discovery turns it off)',
  },
  'hive-port': { kind: 'port', default: '7835', description: 'hive HTTP port of discovered hosts' },
  'discovery-delay': { kind: 'duration', default: '5s', description: 'wait after start before discovery' },
  'discovery-timeout': { kind: 'duration', default: '10s', min: 1, description: 'timeout of each discovery request' },
  'heartbeat-interval': heartbeatInterval('30s', 'interval hives and workers are expected to use'),
  'suspect-after': { kind: 'duration', default: '45s', min: 1, description: 'silence after which an entry is suspect' },
  'offline-after': { kind: 'duration', default: '90s', min: 1, description: 'silence after which an entry is offline' },
  'forget-after': {
    kind: 'duration',
    default: '10m',
    min: 1,
    description: 'silence after which an entry is forgotten',
  },
  'stream-interval': {
    kind: 'duration',
    default: '2.5s',
    min: 1,
    description: "period of the queen's own stream event",
  },
  'state-dir': {
    kind: 'state-dir',
    default: defaultStateDir('queen'),
    description: 'directory of the queen database (none = keep nothing)',
  },
  'history-retention': { kind: 'duration', default: '7d', min: 1, description: 'how long the history is kept' },
  'discovery-interval': {
    kind: 'duration',
    default: '60s',
    description: 'probe expected hives that are not online this often (0 = only at start)',
  },
  webhook: { kind: 'urls', description: 'POST each problem here when it opens and resolves (repeatable)' },
  'webhook-debounce': {
    kind: 'duration',
    default: '30s',
    description: 'a problem that opens and resolves within this long sends nothing',
  },
  'max-hives': {
    kind: 'int',
    default: '10000',
    min: 1,
    description: 'most hives the queen holds: a heartbeat that would register one more gets 503',
  },
  'max-workers': {
    kind: 'int',
    default: '100000',
    min: 1,
    description: 'most workers the queen holds: a heartbeat that would register one more gets 503',
  },
  'max-capability-bytes': {
    kind: 'int',
    default: String(LIMITS.maxCapabilityBytes),
    min: 1,
    description: 'most bytes of capabilities (their JSON) the queen holds over all hives: one more gets 503',
  },
  'idle-timeout': {
    kind: 'duration',
    default: '2m',
    min: 1,
    description: 'an idle keep-alive connection is closed after this long (the stream is exempt)',
  },
  'max-connections': {
    kind: 'int',
    default: '10000',
    min: 1,
    description:
      'connections open at once, kept below the file-descriptor limit; at the cap the one idle longest is closed',
  },
  etcd: { kind: 'urls', description: 'etcd client URLs: elect a leader among several queens (high availability)' },
  'etcd-prefix': { kind: 'string', default: '/apiary', description: "prefix of this cluster's keys in etcd" },
  'etcd-ca': { kind: 'path', description: "CA certificate of etcd's client TLS (https:// --etcd URLs)" },
  'etcd-cert': { kind: 'path', description: 'client certificate this queen shows etcd (with --etcd-key, --etcd-ca)' },
  'etcd-key': { kind: 'path', description: 'private key of --etcd-cert' },
  'etcd-user': { kind: 'string', description: 'etcd user of the queens, when etcd has auth on (with --etcd-password)' },
  'etcd-password': { kind: 'string', description: "that user's password: best given as APIARY_ETCD_PASSWORD" },
  'leader-ttl': {
    kind: 'duration',
    default: '5s',
    min: 1_000,
    description: "lease of the leader in etcd, in whole seconds: a dead leader's successor comes after it",
  },
} as const satisfies OptionSpecs;
