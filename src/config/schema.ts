import { z } from 'zod';
import { LOG_LEVELS } from '../core/logger.js';
import { DEFAULT_SHOPIFY_API_VERSION, SHOPIFY_API_VERSIONS } from '../connectors/shopify/api-versions.js';

/** Instance names (`main`, `eu`, `outlet`): lower-case, digits, dash, underscore. */
const instanceName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'instance names use a-z, 0-9, "-" and "_" (max 50)');
const port = z.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`);

/** Retry policy (exponential backoff with jitter and a cap). */
export const retrySchema = z.strictObject({
  /** Attempts in total before an event is dead-lettered. */
  retries: z.number().int().min(1).max(100).default(8),
  /** First delay in ms. */
  initialDelayMs: z.number().int().min(1).default(200),
  /** Largest delay in ms. */
  maxDelayMs: z.number().int().min(1).default(30_000),
  /** Growth factor per attempt. */
  factor: z.number().min(1).default(2),
});

/** One Shopify store (Admin GraphQL API + webhooks). */
export const shopifyInstanceSchema = z.strictObject({
  /** The shop's domain, e.g. `acme.myshopify.com`. */
  shop: z.string().min(1),
  /** Base URL of the Admin API host; defaults to `https://<shop>`. Point it at a simulator to rehearse. */
  url: url(['http:', 'https:']).optional(),
  /** Admin API version (pinned; quarterly). `config validate` and `status` warn 90 days before its end of support. */
  apiVersion: z
    .string()
    .refine((v) => SHOPIFY_API_VERSIONS.includes(v), `must be one of the supported Admin API versions ${SHOPIFY_API_VERSIONS.join(', ')} (2026-04 is the one syncctl's documents are validated against)`)
    .default(DEFAULT_SHOPIFY_API_VERSION),
  /**
   * Static Admin API access token (`shpat_...`) of a custom app created in the Shopify admin
   * before 2026 (secret; prefer SYNCCTL_SOURCES__SHOPIFY__<NAME>__ACCESS_TOKEN). Set this OR `clientId`.
   */
  accessToken: z.string().min(1).optional(),
  /**
   * Client ID of an app created in the Dev Dashboard: syncctl obtains its 24-hour Admin API tokens
   * with the client credentials grant (client id + `clientSecret`). Set this OR `accessToken`.
   */
  clientId: z.string().min(1).optional(),
  /** App client secret (secret): verifies webhook HMACs, and with `clientId` obtains the access tokens. */
  clientSecret: z.string().min(1),
  /** Location whose stock syncctl manages (GID); defaults to the shop's first location. */
  locationId: z.string().optional(),
  /** Plan, used to model the cost bucket before the first response tells us. */
  plan: z.enum(['standard', 'advanced', 'plus', 'enterprise']).default('standard'),
  /** Units to keep back from what this channel shows (stock buffer). */
  buffer: z.number().int().min(0).default(0),
  /** Incremental poll interval in seconds (safety net behind webhooks). */
  pollIntervalSeconds: z.number().int().min(1).default(60),
  /** Seconds between two checks that the store's webhook subscriptions still exist (Shopify deletes failing ones). */
  subscriptionCheckSeconds: z.number().int().min(1).default(300),
}).superRefine((s, ctx) => {
  const which =
    'an app created in the Shopify admin (before 2026) has a static Admin API access token: set `accessToken`; ' +
    'an app created in the Dev Dashboard has a Client ID and a secret: set `clientId` and syncctl obtains its 24-hour tokens itself (client credentials grant). ' +
    '`clientSecret` (the app\'s secret) is needed in both cases: it verifies webhooks';
  if (s.accessToken === undefined && s.clientId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['accessToken'], message: `set either \`accessToken\` or \`clientId\`: ${which}` });
  } else if (s.accessToken !== undefined && s.clientId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientId'], message: `set \`accessToken\` or \`clientId\`, not both: ${which}` });
  }
});

/** One WooCommerce site (REST API wc/v3 + webhooks). */
export const wooInstanceSchema = z.strictObject({
  /** The site URL, e.g. `https://outlet.example.com`. */
  url: url(['http:', 'https:']),
  /** REST consumer key (`ck_...`). */
  consumerKey: z.string().min(1),
  /** REST consumer secret (`cs_...`, secret). */
  consumerSecret: z.string().min(1),
  /** Secret set on the webhooks syncctl creates, used to verify their signatures (secret). */
  webhookSecret: z.string().min(1),
  /** Requests in flight at once (Woo hosts have few PHP workers). */
  concurrency: z.number().int().min(1).max(16).default(2),
  /** Units to keep back from what this channel shows (stock buffer). */
  buffer: z.number().int().min(0).default(0),
  /** Incremental poll interval in seconds. */
  pollIntervalSeconds: z.number().int().min(1).default(60),
  /**
   * Interval in seconds of the check for deletions WooCommerce does not announce (a permanent or
   * batch delete, a deleted variation): the known ids are listed back (`include=`, `_fields`).
   */
  deletionCheckSeconds: z.number().int().min(1).default(600),
  /**
   * Stock pools synced as one SKU: WooCommerce product id of a variable product that manages
   * stock → the SKU its pool is (e.g. an ERP item). The pool is then read and written as that
   * SKU's stock, and a sale of any of its variations counts against that SKU.
   */
  stockPools: z.record(z.string().regex(/^[1-9]\d*$/, 'a WooCommerce product id'), z.string().trim().min(1)).default({}),
  /** Re-enable or re-create disabled/missing webhooks automatically. */
  repairWebhooks: z.boolean().default(true),
});

/** The ERP database captured by Debezium (change data capture) and written by the ERP writer. */
export const erpSchema = z.strictObject({
  /** Connection URL of the ERP PostgreSQL database. */
  databaseUrl: url(['postgres:', 'postgresql:']),
  /** Debezium topic prefix (`topic.prefix`). */
  topicPrefix: z.string().min(1).default('erp'),
  /** Replication slot name. */
  slotName: z.string().regex(/^[a-z0-9_]+$/).default('syncctl_erp'),
  /** Publication name. */
  publicationName: z.string().regex(/^[a-z0-9_]+$/).default('syncctl_erp'),
  /** Debezium snapshot mode. */
  snapshotMode: z.enum(['initial', 'no_data', 'when_needed', 'never', 'always', 'initial_only']).default('initial'),
  /** Debezium poll interval (sets CDC latency). */
  pollIntervalMs: z.number().int().min(1).default(25),
  /**
   * Debezium `max.batch.size`: most change events Connect takes per poll. Only a backlog (a bulk
   * transaction) fills a batch; a single change is handed over at once, so this does not add latency.
   */
  maxBatchSize: z.number().int().min(1).default(8192),
  /** Debezium `max.queue.size`: change events buffered between the WAL reader and Connect (more than maxBatchSize). */
  maxQueueSize: z.number().int().min(2).default(32768),
  /**
   * `batch.size` (bytes) of the connector's Kafka producer (`producer.override.batch.size`; the
   * worker must allow client overrides, which Connect does by default). The worker sets
   * `linger.ms=0`, so a lone change is still sent at once; only a backlog makes larger, fewer
   * produce requests. 0 keeps the worker's (16 KiB). Keep it below the broker's `message.max.bytes`.
   */
  producerBatchBytes: z.number().int().min(0).max(1_000_000).default(524_288),
  /** Largest fetch of syncctl's CDC consumer per partition (bytes): the most one batch from Kafka holds. */
  fetchMaxBytesPerPartition: z.number().int().min(65_536).default(8 * 2 ** 20),
  /**
   * Most rows per EventStore statement in the CDC source: a larger batch from Kafka is stored in
   * chunks, the next chunk being prepared while the previous one is written, so the relay can
   * publish the first rows of a bulk change while the rest is still being stored.
   */
  storeChunkSize: z.number().int().min(1).default(2000),
  /** Name of the Debezium connector in Kafka Connect. */
  connectorName: z.string().regex(/^[A-Za-z0-9._-]+$/).default('syncctl-erp'),
  /** Kafka Connect REST URL; defaults to the local stack's (`http://127.0.0.1:<stack.connect.port>`). */
  connectUrl: url(['http:', 'https:']).optional(),
  /** Heartbeat interval that keeps the replication slot moving when captured tables are idle (ms, 0 = off). */
  heartbeatIntervalMs: z.number().int().min(0).default(10_000),
  /** How heartbeats move the slot: a logical decoding message (no table needed), a heartbeat table, or none. */
  heartbeatAction: z.enum(['message', 'table', 'none']).default('message'),
  /** Tables (schema.table) captured, and how their columns map to products, stock and orders. */
  tables: z
    .strictObject({
      products: z.string().default('public.items'),
      stock: z.string().default('public.stock_levels'),
      orders: z.string().default('public.sales_orders'),
      orderLines: z.string().default('public.sales_order_lines'),
    })
    .prefault({}),
}).refine((e) => e.maxQueueSize > e.maxBatchSize, { message: 'maxQueueSize must be larger than maxBatchSize (Debezium refuses the connector otherwise)', path: ['maxQueueSize'] });

/** Kafka topics and client. */
export const kafkaSchema = z.strictObject({
  /** Bootstrap brokers, `host:port`. */
  brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1).default(['127.0.0.1:29092']),
  /** Client id sent to the brokers. */
  clientId: z.string().default('syncctl'),
  /** Prefix of every topic syncctl creates (`<prefix>.raw.shopify`, `<prefix>.canonical`...). */
  topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('syncctl'),
  /** Partitions of the topics syncctl creates. */
  partitions: z.number().int().min(1).max(1000).default(4),
  /** Replication factor of the topics syncctl creates. */
  replicationFactor: z.number().int().min(1).default(1),
  /** Connection timeout in ms. */
  connectionTimeoutMs: z.number().int().min(100).default(3000),
});

/** The whole configuration of syncctl. */
export const configSchema = z.strictObject({
  /** PostgreSQL holding syncctl's durable state. */
  database: z
    .strictObject({
      /** Connection URL; the database is created by `syncctl init-db` if missing. */
      url: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/syncctl'),
      /** Schema holding syncctl's tables. */
      schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('public'),
      /** Connections in the pool. */
      poolSize: z.number().int().min(1).max(200).default(10),
      /** Statement timeout in ms (0 = none). */
      statementTimeoutMs: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  kafka: kafkaSchema.prefault({}),
  /** Redis caching hot sync state. */
  redis: z
    .strictObject({
      /** Connection URL. */
      url: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379/0'),
      /** Prefix of every key syncctl writes. */
      keyPrefix: z.string().default('syncctl:'),
      /** TTL of cached state in seconds. */
      ttlSeconds: z.number().int().min(1).default(3600),
    })
    .prefault({}),
  /** HTTP listeners of the daemon: the public one (webhooks only) and the admin one (operators). */
  http: z
    .strictObject({
      /** The listener the platforms reach (behind the operator's TLS proxy): `POST /webhooks/...` and a bare `GET /healthz`. */
      public: z
        .strictObject({
          /** Address the webhook listener binds to. */
          host: z.string().default('127.0.0.1'),
          /** Port of the webhook listener. */
          port: port.default(28700),
          /**
           * Trust `X-Forwarded-For` from these proxy addresses or CIDRs (`true`: from anyone), so the
           * rate limit keys on the real client, not on the TLS proxy. Off by default.
           */
          trustProxy: z.union([z.boolean(), z.array(z.string()).min(1)]).default(false),
          /** Per-source limit of refused deliveries (forgeries, junk): a source over it gets 429 before its body is read. */
          rateLimit: z
            .strictObject({
              /** Limit refused deliveries per source at all. */
              enabled: z.boolean().default(true),
              /** Refused deliveries a source may send in a burst. */
              burst: z.number().int().min(1).default(50),
              /** Refused deliveries per second a source earns back. */
              perSecond: z.number().min(0.01).default(10),
            })
            .prefault({}),
        })
        .prefault({}),
      /** The operators' listener: `/metrics`, `/healthz`, `/readyz` (with details), the Alertmanager receiver `/alerts` and the operator console `/console`. */
      admin: z
        .strictObject({
          /** Address the admin listener binds to; anything but loopback needs `token`. */
          host: z.string().default('127.0.0.1'),
          /** Port of the admin listener. */
          port: port.default(28701),
          /** Bearer token every admin request must carry (`Authorization: Bearer <token>`); env SYNCCTL_HTTP__ADMIN__TOKEN. */
          token: z.string().min(16, 'the admin token must have at least 16 characters').optional(),
          /** Admin paths left open without the token (for a Prometheus that cannot send one); `/alerts` always needs it. */
          unauthenticated: z.array(z.enum(['/metrics', '/healthz', '/readyz'])).default([]),
        })
        .prefault({}),
      /** Largest accepted webhook body in bytes (413 beyond). */
      bodyLimitBytes: z.number().int().min(1024).default(1_048_576),
      /** Public base URL the platforms deliver webhooks to (defaults to http://<public.host>:<public.port>). */
      publicUrl: url(['http:', 'https:']).optional(),
      /** Replaced by `http.public.host` / `http.admin.host` (refused with a message naming them). */
      host: z.unknown().optional(),
      /** Replaced by `http.public.port` / `http.admin.port` (refused with a message naming them). */
      port: z.unknown().optional(),
    })
    .prefault({})
    .superRefine((h, ctx) => {
      for (const k of ['host', 'port'] as const) {
        if (h[k] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [k], message: `http.${k} was split in two listeners: set http.public.${k} (webhooks) and http.admin.${k} (/metrics, /healthz, /readyz, /alerts; default 127.0.0.1:28701)` });
        }
      }
      if (!isLoopback(h.admin.host) && !h.admin.token) {
        ctx.addIssue({ code: 'custom', path: ['admin', 'host'], message: `the admin listener on ${h.admin.host} (not loopback) needs http.admin.token (env SYNCCTL_HTTP__ADMIN__TOKEN)` });
      }
      if (h.admin.port !== 0 && h.admin.port === h.public.port) {
        ctx.addIssue({ code: 'custom', path: ['admin', 'port'], message: `http.admin.port and http.public.port are both ${h.admin.port}: the listeners need their own ports` });
      }
    }),
  /** The sources and targets, by platform and instance name. */
  sources: z
    .strictObject({
      shopify: z.record(instanceName, shopifyInstanceSchema).default({}),
      woocommerce: z.record(instanceName, wooInstanceSchema).default({}),
      erp: erpSchema.optional(),
    })
    .prefault({}),
  /** Sync rules. */
  sync: z
    .strictObject({
      /** Stock authority: `erp`, a channel `platform:instance`, or `peer` (no authority). */
      authority: z.string().regex(/^(erp|peer|(shopify|woocommerce):[a-z0-9_-]+)$/).default('erp'),
      /** Window in seconds within which different edits of one field count as a conflict. */
      conflictWindowSeconds: z.number().int().min(0).default(300),
      /** Policy per catalog field. */
      fieldPolicies: z
        .record(z.string(), z.union([z.enum(['last-writer-wins', 'manual', 'ignore']), z.string().regex(/^priority:.+$/)]))
        // Title and status are product-level on Shopify (and on WooCommerce variable products) while
        // syncctl matches SKUs: syncing them is opt-in.
        .default({ price: 'last-writer-wins', title: 'ignore', status: 'ignore' }),
      /** The daemon's continuous drift check: the `syncctl diff` comparison of each pair, on a schedule (leader only). */
      driftCheck: z
        .strictObject({
          /** Run drift checks at all. */
          enabled: z.boolean().default(true),
          /** Seconds between two checks of one pair (default hourly). */
          intervalSeconds: z.number().int().min(1).default(3600),
          /** Seconds after the daemon starts before the first check of a pair that was never checked. */
          initialDelaySeconds: z.number().int().min(0).default(60),
          /** Pairs `<side>-><side>` with full source keys, e.g. `erp->shopify:main`; empty: every source against the stock authority. */
          pairs: z
            .array(z.string().regex(/^(erp|(shopify|woocommerce):[a-z0-9_-]+)->(erp|(shopify|woocommerce):[a-z0-9_-]+)$/, 'must be <side>-><side>, e.g. erp->shopify:main'))
            .default([]),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Product catalog sync (issue 23): listings created on the channels from one product master.
   * `syncctl catalog plan|apply` use it, and the daemon when `enabled` (its writers execute what `apply` plans).
   */
  catalog: z
    .strictObject({
      /**
       * The product master. Setting it turns on title sync: `sync.fieldPolicies.title` `ignore`
       * (the default) becomes `priority:<master>`. `catalog plan|apply` use `erp` when it is unset.
       * Only `erp` is implemented as a master so far (a channel key is refused by plan/apply).
       */
      master: z.string().regex(/^(erp|(shopify|woocommerce):[a-z0-9_-]+)$/, 'must be erp or a channel key, e.g. shopify:main').optional(),
      /** The daemon runs `catalog apply` on its own (leader only), every `intervalSeconds`. */
      enabled: z.boolean().default(false),
      /** Seconds between two runs of the daemon's catalog sync (each reads the master and every channel's catalog). */
      intervalSeconds: z.number().int().min(10).default(900),
      /** Status of listings syncctl creates: `draft` (default: a merchant reviews them first) or `active`. */
      newListingStatus: z.enum(['draft', 'active']).default('draft'),
      /** Per channel (`shopify:main`, `woocommerce:outlet`): which master products it lists. A channel not named lists `all`. */
      channels: z
        .record(
          z.string().regex(/^(shopify|woocommerce):[a-z0-9_-]+$/, 'must be a channel key, e.g. shopify:main'),
          z.strictObject({
            /**
             * `all` master products; an explicit list of product codes or SKUs (a product is listed
             * when its code or one of its SKUs is named); or a category rule `{productTypes: [...]}`
             * (the master's product type, compared case-insensitively).
             */
            listing: z
              .union([z.literal('all'), z.array(z.string().min(1)).min(1), z.strictObject({ productTypes: z.array(z.string().min(1)).min(1) })])
              .default('all'),
          }),
        )
        .default({}),
    })
    .prefault({}),
  /** How SKUs are matched across platforms. */
  identity: z
    .strictObject({
      sku: z.strictObject({ trim: z.boolean().default(true), case: z.enum(['preserve', 'upper', 'lower']).default('upper') }).prefault({}),
    })
    .prefault({}),
  /** The daemon (`syncctl start`). */
  daemon: z
    .strictObject({
      /** On SIGTERM, finish in-flight work within this many seconds, then exit (a second signal forces). */
      drainTimeoutSeconds: z.number().int().min(1).default(30),
      /** A planned write INFLIGHT longer than this is resent (same idempotency key) by any daemon. */
      writeLeaseSeconds: z.number().int().min(5).default(60),
      /** Settle window before correcting an unexplained stock difference on a channel (its order may be on the way). */
      settleSeconds: z.number().min(0).default(10),
      /** Consumer group ids are `<groupPrefix>.sync` (and `<groupPrefix>.transform`, the Flink job's, with the Flink runner). */
      groupPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('syncctl'),
      /** Create the webhook subscriptions the sources need on start (Shopify, WooCommerce). */
      registerWebhooks: z.boolean().default(true),
    })
    .prefault({}),
  /** The transformation stage. */
  transform: z
    .strictObject({
      runner: z.enum(['embedded', 'flink']).default('embedded'),
      /**
       * With the embedded runner, also publish every source event to its platform's raw topic
       * (for other consumers; the embedded transform itself runs in the outbox relay and does not
       * read them). The Flink runner always has them: they are its input.
       */
      publishRawTopics: z.boolean().default(false),
      /** The Flink runner (`runner: flink`): where the cluster is and how the transform job runs. */
      flink: z
        .strictObject({
          /** SQL Gateway REST URL; defaults to the local stack's (`http://127.0.0.1:<stack.flink.gatewayPort>`). */
          gatewayUrl: url(['http:', 'https:']).optional(),
          /** JobManager REST URL; defaults to the local stack's (`http://127.0.0.1:<stack.flink.restPort>`). */
          restUrl: url(['http:', 'https:']).optional(),
          /** Checkpoint interval of the transform jobs (ms); the Kafka source commits offsets on each checkpoint. */
          checkpointIntervalMs: z.number().int().min(100).default(5000),
          /** Checkpoint directory (any Flink filesystem URI); defaults to `file://<stack dir>/data/flink/checkpoints`. */
          checkpointUri: z.string().min(1).optional(),
          /** Canonical sink guarantee: exactly-once makes output visible only at checkpoints (use ≤ 500 ms checkpoints). */
          deliveryGuarantee: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
          /** Parallelism of the transform jobs (each parallel instance takes a slot). */
          parallelism: z.number().int().min(1).max(256).default(1),
          /** Window of the per-source figures job (seconds; 60 = per minute). */
          metricsWindowSeconds: z.number().int().min(1).max(3600).default(60),
        })
        .prefault({}),
    })
    .prefault({}),
  retry: retrySchema.prefault({}),
  /** Batching of Kafka and database work. */
  batching: z
    .strictObject({
      /** Largest batch of events handled in one database transaction. */
      maxBatchSize: z.number().int().min(1).max(10_000).default(500),
      /** Longest wait to fill a batch, in ms. */
      lingerMs: z.number().int().min(0).default(5),
      /**
       * Kafka partitions each consumer (transform, sync worker) handles at once, each batch in its
       * own transaction; a partition's batches stay in order, and a SKU lives on one partition.
       */
      partitionsConcurrently: z.number().int().min(1).max(64).default(4),
    })
    .prefault({}),
  /** Logging (structured JSON on stderr). */
  logging: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** Per-component levels, e.g. `{ kafka: warn }`. */
      components: z.record(z.string(), z.enum(LOG_LEVELS)).default({}),
      /** A YAML file with `level` and `components` (relative to the config file); keys here win. */
      file: z.string().optional(),
    })
    .prefault({}),
  /** The local stack started by `syncctl stack up`. */
  stack: z
    .strictObject({
      /** Where jars, data and logs of the local stack live (relative paths are from the project root). */
      dir: z.string().default('.stack'),
      kafka: z
        .strictObject({
          port: port.default(29092),
          controllerPort: port.default(29093),
          heapMb: z.number().int().min(128).default(512),
        })
        .prefault({}),
      connect: z.strictObject({ port: port.default(28083), heapMb: z.number().int().min(128).default(512) }).prefault({}),
      flink: z
        .strictObject({
          restPort: port.default(28081),
          gatewayPort: port.default(28082),
          rpcPort: port.default(26123),
        })
        .prefault({}),
      /** Start PostgreSQL/Redis with the machine's commands when they are down. */
      manageServices: z.boolean().default(true),
    })
    .prefault({}),
  /** Monitoring: the sync_metrics history, the /alerts receiver, local Prometheus/Alertmanager. */
  monitoring: z
    .strictObject({
      /** Periodic snapshots of key metrics into the `sync_metrics` table (trends without Prometheus). */
      metricsHistory: z
        .strictObject({
          /** Write snapshots at all. */
          enabled: z.boolean().default(true),
          /** Seconds between two snapshots. */
          intervalSeconds: z.number().int().min(1).default(60),
          /** Days a snapshot is kept; older rows are deleted. */
          retentionDays: z.number().min(0.001).default(30),
        })
        .prefault({}),
      /** The daemon's `/alerts` endpoint receiving Alertmanager webhook notifications. */
      alertReceiver: z
        .strictObject({
          /** Mount `/alerts` on the admin listener; default: when `http.admin.token` is set (the receiver always needs it). */
          enabled: z.boolean().optional(),
          /** Where each received notification is forwarded (POST, same JSON body); none by default. */
          forwardUrl: url(['http:', 'https:']).optional(),
          /** Timeout of one forward, in ms. */
          forwardTimeoutMs: z.number().int().min(100).default(5000),
        })
        .prefault({}),
      /** Local Prometheus started by `syncctl stack up --monitoring`. */
      prometheus: z.strictObject({ port: port.default(29190) }).prefault({}),
      /** Local Alertmanager started by `syncctl stack up --monitoring`. */
      alertmanager: z.strictObject({ port: port.default(29193) }).prefault({}),
    })
    .prefault({}),
  /** The operator console in the browser (`/console` on the admin listener, never on the public one). */
  console: z
    .strictObject({
      /** Serve the console at all (it also needs `http.admin.token`: without one, `/console` answers 403 saying so). */
      enabled: z.boolean().default(true),
      /** Pages only: no action buttons, and every POST action is refused (403). */
      readOnly: z.boolean().default(false),
      /** Minutes a login session lasts (sessions live in the daemon's memory: a restart logs everyone out). */
      sessionMinutes: z.number().int().min(1).max(10_080).default(480),
      /** Mark the session cookie `Secure`: set it when operators reach the admin listener through a TLS proxy. */
      secureCookie: z.boolean().default(false),
      /** Origins (`scheme://host[:port]`) a POST may come from besides the request's own Host (e.g. the TLS proxy's public name). */
      allowedOrigins: z.array(url(['http:', 'https:'])).default([]),
      /** Seconds between two refreshes of the live counters in the browser. */
      refreshSeconds: z.number().int().min(1).max(3600).default(5),
    })
    .prefault({}),
}).superRefine((c, ctx) => {
  if (c.monitoring.alertReceiver.enabled === true && !c.http.admin.token) {
    ctx.addIssue({ code: 'custom', path: ['monitoring', 'alertReceiver', 'enabled'], message: 'the /alerts receiver always needs http.admin.token (env SYNCCTL_HTTP__ADMIN__TOKEN): Alertmanager sends it through http_config.authorization' });
  }
});

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether the daemon mounts `/alerts`: as configured, else when an admin token exists. */
export function alertReceiverEnabled(config: SyncConfig): boolean {
  return config.monitoring.alertReceiver.enabled ?? config.http.admin.token !== undefined;
}

/** The validated configuration. */
export type SyncConfig = z.infer<typeof configSchema>;
/** The configuration as written in a file (before defaults). */
export type SyncConfigInput = z.input<typeof configSchema>;
export type ShopifyInstanceConfig = z.infer<typeof shopifyInstanceSchema>;
export type WooInstanceConfig = z.infer<typeof wooInstanceSchema>;
export type ErpConfig = z.infer<typeof erpSchema>;
