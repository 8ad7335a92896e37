import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { isProxyRange, type TrustedProxies } from './http/client-address.ts';

/** The secret used when none is configured. Fine for a laptop; refused when NODE_ENV=production. */
export const INSECURE_DEFAULT_SECRET = 'confab-insecure-development-secret-change-me';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const BOOL_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false };
/** true/false from TOML, or from env words (true/false, 1/0, yes/no, on/off); anything else is an error. */
export const bool = z.preprocess((v) => (typeof v === 'string' ? (BOOL_WORDS[v.trim().toLowerCase()] ?? v) : v), z.boolean());
const csv = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string()),
);

/** `input_per_1k_usd` camel-cases to `inputPer_1kUsd` (no letter after the `_`); both spellings are accepted. */
const modelPrice = z.preprocess(
  (v) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_(\d)/g, '$1'), x])) : v),
  z.object({ inputPer1kUsd: z.coerce.number().min(0), outputPer1kUsd: z.coerce.number().min(0) }),
);

/** `server.trusted_proxies`: a hop count, or addresses and CIDRs (from env: a number or a comma-separated list). */
const trustedProxies = z.preprocess(
  (v) => (typeof v === 'string' ? (/^\s*\d+\s*$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim()).filter(Boolean)) : v),
  z.union(
    [
      z.number().int().min(0).max(100),
      z.array(z.string().refine(isProxyRange, { error: (i) => `"${String(i.input)}" is not an IP address, a CIDR (10.0.0.0/8) or loopback, linklocal, uniquelocal` })),
    ],
    { error: 'must be a hop count (a whole number) or a list of proxy addresses and CIDRs' },
  ),
);
const resolveTrustedProxies = (trustProxy: boolean, trusted: TrustedProxies | undefined) => {
  const trustedProxies = trusted ?? (trustProxy ? 1 : 0);
  return { trustedProxies, trustProxy: typeof trustedProxies === 'number' ? trustedProxies > 0 : trustedProxies.length > 0 };
};

/** Trust tiers, lowest first (see src/modules/paid-sessions/trust.ts). */
export const TRUST_TIERS = ['NEW', 'ESTABLISHED', 'TRUSTED', 'ELITE'] as const;
export type TrustTierName = (typeof TRUST_TIERS)[number];
const trustTierSetting = z.preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), z.enum([...TRUST_TIERS, 'NONE']));

/** One plan's limits. */
const planSettings = (messagesPerDay: number) =>
  z
    .preprocess(
      (v) => (typeof v === 'number' || typeof v === 'string' ? { messagesPerDay: v } : v),
      z.object({
        /** Messages per org per UTC day; 0 means unlimited. */
        messagesPerDay: z.coerce.number().int().min(0).default(messagesPerDay),
        /** Models the plan may use (exact names, or a prefix ending in `*`), within models.allowed; unset: all of models.allowed. */
        models: csv.optional(),
      }),
    )
    .prefault({});

const configSchema = z.object({
  env: z.enum(['development', 'production', 'test']).default('development'),
  server: z
    .object({
      port: port.default(4000),
      host: z.string().min(1).default('0.0.0.0'),
      corsOrigins: csv.default([]),
      /** How long SIGTERM waits for in-flight operations before closing everything. */
      shutdownTimeoutMs: positiveInt.default(10_000),
      /**
       * Behind a reverse proxy: take the client address from X-Forwarded-For (rate limits, logs). `true`
       * means one trusted hop (`trusted_proxies = 1`, the shipped nginx); `trusted_proxies` overrides it.
       */
      trustProxy: bool.default(false),
      /**
       * The proxies whose X-Forwarded-For entries are believed, as Express's `trust proxy`: a hop count
       * (the number of proxies in front of Confab) or a list of their addresses and CIDRs (`loopback`,
       * `linklocal`, `uniquelocal` too). The client is the rightmost entry no trusted proxy added; with a
       * list the socket's peer must be one of them. Unset: 1 with trust_proxy on, else 0 (the socket's address).
       * Env: a number or a comma-separated list.
       */
      trustedProxies: trustedProxies.optional(),
      /** Reflected in GET /health and in logs. */
      serviceName: z.string().default('confab'),
      /** Largest request body (HTTP) and WebSocket message, in bytes; bigger ones get 413 before any parsing. */
      maxBodyBytes: positiveInt.default(1024 * 1024),
      /** A request whose body has not fully arrived after this long is cut off (slow clients hold sockets). */
      requestTimeoutMs: positiveInt.default(30_000),
      /** Likewise for the request headers; must not exceed requestTimeoutMs. */
      headersTimeoutMs: positiveInt.default(10_000),
      /** Schema introspection; unset means on except in production. */
      introspection: bool.optional(),
      /** The GraphiQL page at GET /graphql; unset means on except in production. It needs introspection. */
      graphiql: bool.optional(),
      /**
       * Strict-Transport-Security max-age (seconds), sent only on requests a trusted proxy (trust_proxy)
       * marks `X-Forwarded-Proto: https`; 0 never sends it.
       */
      hstsMaxAge: z.coerce.number().int().min(0).default(31_536_000),
      /**
       * Bytes a WebSocket may have queued unsent before it is closed with 4413 (a slow or stalled
       * consumer must not hold memory or slow others); the client resumes with afterSeq/afterVersion.
       */
      wsMaxBufferedBytes: positiveInt.default(4 * 1024 * 1024),
      /** Operations (subscriptions, and queries under way) one WebSocket may hold at once; more are refused (RATE_LIMITED). */
      wsMaxSubscriptionsPerSocket: positiveInt.default(100),
      /** Open WebSockets per user or API key on this instance; one more is closed with 4429. */
      wsMaxSocketsPerClient: positiveInt.default(50),
      /** Open WebSockets per client address on this instance; one more is refused at the upgrade (HTTP 429). */
      wsMaxSocketsPerAddress: positiveInt.default(200),
      /**
       * Execute a live event's selection once per group of subscribers whose results cannot differ
       * (same document and variables, no viewer-dependent field) and send every one the same payload.
       */
      liveSharedExecution: bool.default(true),
    })
    .prefault({}),
  metrics: z
    .object({
      /** Prometheus metrics at GET /metrics. */
      enabled: bool.default(true),
      /** When set, /metrics answers only `Authorization: Bearer <token>` (401 otherwise). */
      token: z.string().min(1).optional(),
      /** Orgs that get their own `org` label on confab_org_requests_total (the first seen); later ones count as `other`. */
      maxOrgLabels: z.coerce.number().int().min(0).max(10_000).default(100),
    })
    .prefault({}),
  rateLimit: z
    .object({
      /** GraphQL operations and /v1 requests one client (credential, else address) may make per window; 0 = no limit. */
      perClient: z.coerce.number().int().min(0).default(600),
      /** Likewise for everything an org's API keys do together; 0 = no limit. */
      perOrg: z.coerce.number().int().min(0).default(3000),
      windowSec: positiveInt.default(60),
    })
    .prefault({}),
  security: z
    .object({
      /**
       * Path of a trusted-documents manifest (`{ "<sha256>": "<document>" }`, graphql-codegen's
       * persisted-documents.json): only those operations run, sent by hash; GraphiQL and introspection are then off.
       */
      trustedDocuments: z.string().min(1).optional(),
    })
    .prefault({}),
  database: z
    .object({
      url: z
        .string()
        .regex(/^(file:|postgres(ql)?:\/\/)/, 'must start with file: (SQLite) or postgresql:// (PostgreSQL)')
        .default('file:./data/confab.db'),
      /** Apply pending migrations at start (on by default). */
      migrate: bool.default(true),
    })
    .prefault({}),
  redis: z
    .object({
      url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
      /** Prefix of every key Confab writes (rate limits, presence, typing): several deployments can share one Redis. */
      keyPrefix: z.string().regex(/^[\w:.-]*$/, 'may hold letters, digits, _ : . -').default('confab:'),
    })
    .prefault({}),
  auth: z
    .object({
      secretKey: z.string().min(32, 'must be at least 32 characters').default(INSECURE_DEFAULT_SECRET),
      issuer: z.string().default('confab'),
      audience: z.string().default('confab-api'),
      accessTokenTtl: positiveInt.default(15 * 60),
      refreshTokenTtl: positiveInt.default(30 * 24 * 3600),
      inviteTtl: positiveInt.default(7 * 24 * 3600),
      /** log2 of scrypt's N; 17 is OWASP's recommendation. Lower only for tests. */
      passwordHashCost: z.coerce.number().int().min(10).max(20).default(17),
      /** Failed logins allowed per email and per client address within the window. */
      loginMaxAttempts: positiveInt.default(10),
      loginWindowSec: positiveInt.default(15 * 60),
      /**
       * How long a checked access token or API key is believed without checking again (src/auth/credential-cache.ts);
       * revocations end it at once. 0 checks every request.
       */
      credentialCacheSec: z.coerce.number().int().min(0).max(3600).default(30),
      /** `register` is open to anyone; off: only people invited to an org can sign up (with the invite's token). */
      enableRegistration: bool.default(true),
      /** Users must verify their email (a mailed link, verifyEmail) before they act; until then only `me`, verification and logout work. */
      requireVerifiedEmail: bool.default(false),
      /** Seconds a password reset link stays usable (once). */
      passwordResetTtlSec: positiveInt.default(3600),
      /** Seconds an email verification link stays usable (once). */
      emailVerificationTtlSec: positiveInt.default(24 * 3600),
    })
    .prefault({}),
  /** Outgoing mail (password reset, email verification), through nodemailer. */
  mail: z
    .object({
      /** `smtp://user:pass@host:587` or `smtps://…`; unset: no mail is sent (the links are logged at warn level instead, for a laptop). */
      smtpUrl: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
      from: z.string().min(3).default('Confab <no-reply@localhost>'),
      /** The origin of the web client the mailed links open (`https://chat.example.com`); unset: the origin of the request that asked. */
      publicUrl: z.url().optional(),
    })
    .prefault({}),
  privacy: z
    .object({
      /**
       * What deleteAccount does to the user's messages in rooms shared with others: `anonymize` keeps them under
       * "Deleted user"; `delete` deletes them as deleteMessage does (the seq stays). Personal data is erased either way.
       */
      onDelete: z.enum(['anonymize', 'delete']).default('anonymize'),
      /** Seconds an exportMyData download URL stays valid. */
      exportUrlTtlSec: positiveInt.default(3600),
    })
    .prefault({}),
  retention: z
    .object({
      /** Room messages older than this many days are deleted (orgs may set their own, Org.retentionDays); 0 keeps them forever. */
      roomMessagesDays: z.coerce.number().int().min(0).default(0),
      /** Milliseconds between passes of the retention worker. */
      intervalMs: positiveInt.default(3600_000),
    })
    .prefault({}),
  /** Nostr identities for prepaid sessions (x-nostr-token): a key proves itself by signing a challenge. */
  nostr: z
    .object({
      /** Seconds a challenge (nostrChallenge) may be signed and answered in. */
      challengeTtlSec: positiveInt.default(300),
      /** Seconds an x-nostr-token is accepted. */
      tokenTtlSec: positiveInt.default(3600),
    })
    .prefault({}),
  limits: z
    .object({
      maxDepth: positiveInt.default(12),
      maxAliases: positiveInt.default(30),
      maxTokens: positiveInt.default(5000),
      maxCost: positiveInt.default(100_000),
    })
    .prefault({}),
  lightning: z
    .object({
      /** `dev`: offline, invoices settled by the settleDevInvoice mutation. `lnbits`: a real LNbits wallet over HTTP. */
      backend: z.enum(['dev', 'lnbits']).default('dev'),
      lnbitsUrl: z.string().url().optional(),
      /** The wallet's invoice/read key (never the admin key: Confab only receives). */
      lnbitsApiKey: z.string().optional(),
      /** Shared secret LNbits sends back on the payment webhook (`?secret=` or `X-Webhook-Secret`). */
      webhookSecret: z.string().optional(),
      /** Public base URL of this server, for the webhook LNbits calls; without it, payments are found by polling. */
      publicUrl: z.string().url().optional(),
      /** Seconds an invoice stays payable. */
      invoiceTtl: positiveInt.default(3600),
      /** Milliseconds between polls of pending invoices (and expiry sweeps). */
      pollInterval: positiveInt.default(5000),
      /** Milliseconds before an LNbits call is given up. */
      requestTimeout: positiveInt.default(10_000),
    })
    .prefault({})
    .refine((l) => l.backend !== 'lnbits' || (l.lnbitsUrl && l.lnbitsApiKey), {
      message: 'the lnbits backend needs lnbits_url and lnbits_api_key',
    }),
  paidSessions: z
    .object({
      minSats: positiveInt.default(100),
      maxSats: positiveInt.default(10_000),
      /** Seconds a paid session lives after payment, extended on each activity. */
      ttl: positiveInt.default(24 * 3600),
      /** Below this balance a session is PAUSED and requests get PAYMENT_REQUIRED. */
      minimumBalance: z.coerce.number().int().min(0).default(50),
      /** Sats held from the balance while a request runs (the most a request may cost beyond its hold is what is left). */
      requestHoldSats: positiveInt.default(50),
      /** Sessions one client address may open per minute (invoices cost the wallet a little); 0 = no limit. */
      openPerMinute: z.coerce.number().int().min(0).default(120),
      /** Delete an expired prepaid session's messages (and its thread) when the session expires. */
      purgeOnExpiry: bool.default(false),
    })
    .prefault({}),
  pricing: z
    .object({
      btcUsd: z.coerce.number().positive().default(100_000),
      /** Optional JSON endpoint for the BTC/USD rate; `priceSourceField` is the dotted path of the number. */
      priceSourceUrl: z.string().url().optional(),
      priceSourceField: z.string().default('btc_usd'),
      /** Seconds a fetched rate is reused. */
      priceCacheTtl: positiveInt.default(300),
      /** Multiplier on the token cost (infrastructure and margin); 1 charges exactly the model price. */
      markup: z.coerce.number().positive().default(1),
      /** Price per 1,000 tokens in USD for each model; a model without an entry uses `default`. */
      models: z.record(z.string(), modelPrice).default({}),
      default: modelPrice.default({ inputPer1kUsd: 0.01, outputPer1kUsd: 0.03 }),
    })
    .prefault({}),
  screening: z
    .object({
      /** Ask a cheap model whether to take each paid request before doing the work. */
      enabled: z.coerce.boolean().default(false),
      model: z.string().default('echo'),
      /** Words that make the screening refuse a request (the echo provider screens with these alone). */
      blockedWords: csv.default([]),
    })
    .prefault({}),
  freePool: z
    .object({
      /** Sats the pool starts with; 0 disables it. */
      sats: z.coerce.number().int().min(0).default(0),
      /** Most the pool absorbs for one request. */
      maxPerRequest: z.coerce.number().int().min(0).default(100),
      /** The static list gave way to trust tiers ([trust] free_pool_tier); a leftover list is refused, not ignored. */
      trustedUsers: z.never({ error: 'was replaced by trust tiers: set [trust] free_pool_tier (and the tier scores) instead' }).optional(),
    })
    .prefault({}),
  trust: z
    .object({
      /** Days after which an idle trust score has halved (decay is computed when the score is read). */
      halfLifeDays: z.coerce.number().positive().default(30),
      /** Points one completed, charged prepaid request adds (screening-rejected and failed ones add none). */
      pointsPerRequest: z.coerce.number().positive().default(1),
      /** The least score of each tier above NEW. */
      establishedScore: z.coerce.number().positive().default(5),
      trustedScore: z.coerce.number().positive().default(20),
      eliteScore: z.coerce.number().positive().default(50),
      /** The least tier whose sessions the free-tier pool serves; NONE: nobody's. */
      freePoolTier: trustTierSetting.default('TRUSTED'),
      /** The least tier whose requests skip screening; NONE: everyone's are screened. */
      unscreenedTier: trustTierSetting.default('ELITE'),
    })
    .prefault({})
    .refine((t) => t.establishedScore < t.trustedScore && t.trustedScore < t.eliteScore, {
      message: 'tier scores must increase: established_score < trusted_score < elite_score',
    }),
  rooms: z
    .object({
      /** Longest message content, in characters. */
      maxMessageLength: positiveInt.default(4000),
      /** Largest `meta` JSON of a message or `payload` of a notification, in bytes (serialized). */
      maxMetaBytes: positiveInt.default(8192),
      /** Most messages one `Room.messages` call returns. */
      maxMessagesPerPage: positiveInt.default(100),
    })
    .prefault({}),
  kv: z
    .object({
      /** Largest value of a TEXT, JSON or MARKDOWN key, in bytes of its JSON. */
      maxValueBytes: positiveInt.default(1024 * 1024),
      /** Largest value of an IMAGE key (base64 or data URL), in bytes. */
      maxImageBytes: positiveInt.default(10 * 1024 * 1024),
      /** Models generateKvImage may use (the first is the default); `echo*` names are the offline provider. */
      imageModels: csv.default(['echo-image']),
    })
    .prefault({}),
  realtime: z
    .object({
      /** How long a user stays ONLINE after their last connection closes. */
      presenceGraceMs: positiveInt.default(5000),
      /** How often an instance refreshes its presence counters in Redis (they expire after 3 beats). */
      presenceHeartbeatMs: positiveInt.default(10_000),
      /** A typing indicator that is not renewed ends by itself after this long. */
      typingTtlMs: positiveInt.default(5000),
      /** Renewals of `typing: true` within this window are not re-announced. */
      typingThrottleMs: positiveInt.default(2000),
    })
    .prefault({}),
  models: z
    .object({
      /** Used when a request names no model. */
      default: z.string().min(1).default('echo'),
      allowed: csv.default(['echo']),
      /** Provider per model name; unlisted models go to `openai`, except names starting with `echo`. */
      providers: z.record(z.string(), z.enum(['echo', 'openai'])).default({}),
      /**
       * Models that take images (a thread message's image attachments go to them as image parts; other models get a
       * text note naming each image). Exact names, or a prefix ending in `*`.
       */
      vision: csv.default(['echo*', 'gpt-4o*', 'gpt-4.1*', 'gpt-5*', 'o3*', 'o4*']),
    })
    .prefault({}),
  providers: z
    .object({
      openai: z
        .object({
          baseUrl: z.url().default('https://api.openai.com/v1'),
          /** The server's own key, used for orgs without a BYOK key. */
          apiKey: z.string().optional(),
          timeoutMs: positiveInt.default(120_000),
        })
        .prefault({}),
      echo: z
        .object({
          /** Pause between streamed words (demos; tests use it to cancel mid-stream). */
          delayMs: z.coerce.number().int().min(0).default(0),
        })
        .prefault({}),
    })
    .prefault({}),
  sessions: z
    .object({
      /** A thread rotates to a new session once the session's history holds this many tokens. */
      tokenBudget: positiveInt.default(8000),
      /** Most tokens of history sent to the model per request (most recent turns first). */
      historyBudget: positiveInt.default(4000),
      /** Seconds a thread session lives before the next message rotates it. */
      ttl: positiveInt.default(7 * 24 * 3600),
    })
    .prefault({}),
  /** Per plan: `messages_per_day` and `models`. A bare number is the messages per day (the older form). */
  plans: z
    .object({
      free: planSettings(100),
      pro: planSettings(1000),
      team: planSettings(0),
      enterprise: planSettings(0),
    })
    .prefault({}),
  webhooks: z
    .object({
      /** Let webhook URLs reach loopback, private, link-local and unique-local addresses (tests, trusted networks). */
      allowPrivate: bool.default(false),
      /** Milliseconds before one delivery attempt is given up. */
      timeoutMs: positiveInt.default(10_000),
      /** Seconds after an event during which failed deliveries are retried; then FAILED. */
      retryWindow: z.coerce.number().positive().default(24 * 3600),
      /** First retry delay (ms); doubled per attempt, capped by backoffMaxMs, with jitter. */
      backoffBaseMs: positiveInt.default(10_000),
      backoffMaxMs: positiveInt.default(3600_000),
      /** Milliseconds between worker passes over due deliveries (events raised here are sent at once). */
      pollIntervalMs: positiveInt.default(1000),
      /** Deliveries one instance sends at the same time. */
      concurrency: positiveInt.default(8),
      /** Webhooks per org. */
      maxPerOrg: positiveInt.default(20),
    })
    .prefault({}),
  /** Where Confab keeps files of its own besides the SQLite database: uploads (local storage), generated VAPID keys. */
  dataDir: z.string().min(1).default('./data'),
  /** Attachments (createUpload): where the bytes go, how big they may be, which types are accepted. */
  storage: z
    .object({
      /** Local storage's directory; unset: `<data_dir>/uploads`. Ignored when storage.s3.bucket is set. */
      dir: z.string().min(1).optional(),
      /**
       * The origin clients reach Confab at, for the upload and download URLs of local storage
       * (`https://chat.example.com`); unset: the origin of the request that asks for the URL.
       */
      publicUrl: z.url().optional(),
      /** Seconds an upload URL (createUpload) stays valid. */
      uploadUrlTtlSec: positiveInt.default(600),
      /** Seconds a download URL (Attachment.url) stays valid. */
      downloadUrlTtlSec: positiveInt.default(3600),
      /** Seconds after which an upload never attached to a message is deleted. */
      pendingTtlSec: positiveInt.default(24 * 3600),
      /** Milliseconds between passes of the worker that deletes expired and orphaned uploads. */
      sweepIntervalMs: positiveInt.default(60_000),
      /** Content types accepted by createUpload; the stored bytes must sniff as the declared type. */
      allowedTypes: csv.default(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']),
      /** Most attachments on one message. */
      maxPerMessage: positiveInt.default(10),
      /** createUpload calls one user may make per minute; 0 = no limit. */
      uploadsPerMinute: z.coerce.number().int().min(0).default(60),
      /** Largest upload in bytes, per org plan. */
      maxBytes: z
        .object({
          free: positiveInt.default(5 * 1024 * 1024),
          pro: positiveInt.default(25 * 1024 * 1024),
          team: positiveInt.default(100 * 1024 * 1024),
          enterprise: positiveInt.default(500 * 1024 * 1024),
        })
        .prefault({}),
      /** Any S3-compatible store (AWS S3, MinIO, R2, ...): used instead of local disk when `bucket` is set. */
      s3: z
        .object({
          bucket: z.string().min(1).optional(),
          region: z.string().min(1).default('us-east-1'),
          /** For stores other than AWS (`http://127.0.0.1:9000`); unset: AWS's endpoint for the region. */
          endpoint: z.url().optional(),
          accessKeyId: z.string().min(1).optional(),
          secretAccessKey: z.string().min(1).optional(),
          /** Path-style addressing (`<endpoint>/<bucket>/<key>`), which MinIO and most self-hosted stores want. */
          forcePathStyle: bool.default(true),
          /** Prefix of every object key Confab writes. */
          prefix: z.string().default('confab/'),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Web Push (registerPushSubscription): mentions, DMs and notifications reach users with no open socket. */
  push: z
    .object({
      enabled: bool.default(true),
      /** VAPID key pair (URL-safe base64, as `web-push generate-vapid-keys` prints); unset: generated into `<data_dir>/vapid.json` on first start. */
      vapidPublicKey: z.string().min(1).optional(),
      vapidPrivateKey: z.string().min(1).optional(),
      /** The contact the push services see (`mailto:ops@example.com` or an https URL). */
      subject: z.string().regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://').default('mailto:admin@localhost'),
      /** Seconds a push service keeps an undelivered message. */
      ttlSec: z.coerce.number().int().min(0).default(24 * 3600),
      /** Milliseconds one push request may take. */
      timeoutMs: positiveInt.default(10_000),
      /** Let push endpoints reach loopback, private, link-local and unique-local addresses (tests, a push service on your own network). */
      allowPrivate: bool.default(false),
      /** A PEM file of CA certificates trusted for push endpoints besides the system's (a push service behind a private CA; tests). */
      caFile: z.string().min(1).optional(),
      /** Push subscriptions per user (browsers and devices); registering one more removes that user's oldest. */
      maxPerUser: positiveInt.default(20),
      /** Push requests one instance sends at the same time. */
      concurrency: positiveInt.default(8),
    })
    .prefault({})
    .refine((p) => !p.vapidPublicKey === !p.vapidPrivateKey, { message: 'push.vapid_public_key and push.vapid_private_key go together' }),
  billing: z
    .object({
      /** `manual`: org OWNERs set their plan (setOrgPlan); `webhook`: only the billing provider's signed webhook does. */
      mode: z.enum(['manual', 'webhook']).default('manual'),
      /** HMAC-SHA256 secret shared with the billing provider (webhook mode). */
      webhookSecret: z.string().min(16, 'must be at least 16 characters').optional(),
      /** Seconds a signed webhook stays acceptable after its timestamp (and before it, for clock skew). */
      webhookToleranceSec: positiveInt.default(300),
    })
    .prefault({})
    .refine((b) => b.mode !== 'webhook' || b.webhookSecret, { message: 'billing mode webhook needs billing.webhook_secret' }),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});

/** Settings whose default depends on `env`, resolved once here so the rest of the code reads plain booleans. */
const resolvedSchema = configSchema.transform((c) => ({
  ...c,
  server: {
    ...c.server,
    // trust_proxy alone is the one hop of the shipped nginx, never "believe the leftmost entry".
    ...resolveTrustedProxies(c.server.trustProxy, c.server.trustedProxies),
    // With trusted documents only the manifest's operations run: introspection and GraphiQL could do nothing.
    introspection: !c.security.trustedDocuments && (c.server.introspection ?? c.env !== 'production'),
    graphiql: !c.security.trustedDocuments && (c.server.graphiql ?? c.env !== 'production'),
  },
}));

export type Config = z.infer<typeof resolvedSchema>;
export type ConfigInput = z.input<typeof configSchema>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export class ConfigError extends Error {}

/** Environment variables and the config path each one sets (exported for the deploy files' test). */
export const ENV_MAP: Record<string, string> = {
  NODE_ENV: 'env',
  CONFAB_PORT: 'server.port',
  CONFAB_HOST: 'server.host',
  CONFAB_CORS_ORIGINS: 'server.corsOrigins',
  CONFAB_SHUTDOWN_TIMEOUT_MS: 'server.shutdownTimeoutMs',
  CONFAB_TRUST_PROXY: 'server.trustProxy',
  CONFAB_TRUSTED_PROXIES: 'server.trustedProxies',
  CONFAB_MAX_BODY_BYTES: 'server.maxBodyBytes',
  CONFAB_REQUEST_TIMEOUT_MS: 'server.requestTimeoutMs',
  CONFAB_HEADERS_TIMEOUT_MS: 'server.headersTimeoutMs',
  CONFAB_INTROSPECTION: 'server.introspection',
  CONFAB_GRAPHIQL: 'server.graphiql',
  CONFAB_HSTS_MAX_AGE: 'server.hstsMaxAge',
  CONFAB_METRICS_ENABLED: 'metrics.enabled',
  CONFAB_METRICS_TOKEN: 'metrics.token',
  CONFAB_METRICS_MAX_ORG_LABELS: 'metrics.maxOrgLabels',
  CONFAB_RATE_LIMIT_PER_CLIENT: 'rateLimit.perClient',
  CONFAB_RATE_LIMIT_PER_ORG: 'rateLimit.perOrg',
  CONFAB_RATE_LIMIT_WINDOW_SEC: 'rateLimit.windowSec',
  CONFAB_TRUSTED_DOCUMENTS: 'security.trustedDocuments',
  CONFAB_WS_MAX_BUFFERED_BYTES: 'server.wsMaxBufferedBytes',
  CONFAB_WS_MAX_SUBSCRIPTIONS_PER_SOCKET: 'server.wsMaxSubscriptionsPerSocket',
  CONFAB_WS_MAX_SOCKETS_PER_CLIENT: 'server.wsMaxSocketsPerClient',
  CONFAB_WS_MAX_SOCKETS_PER_ADDRESS: 'server.wsMaxSocketsPerAddress',
  CONFAB_LIVE_SHARED_EXECUTION: 'server.liveSharedExecution',
  DATABASE_URL: 'database.url',
  CONFAB_MIGRATE: 'database.migrate',
  REDIS_URL: 'redis.url',
  CONFAB_REDIS_PREFIX: 'redis.keyPrefix',
  CONFAB_SECRET_KEY: 'auth.secretKey',
  CONFAB_ACCESS_TOKEN_TTL: 'auth.accessTokenTtl',
  CONFAB_REFRESH_TOKEN_TTL: 'auth.refreshTokenTtl',
  LOG_LEVEL: 'log.level',
  CONFAB_MAX_MESSAGE_LENGTH: 'rooms.maxMessageLength',
  CONFAB_KV_MAX_VALUE_BYTES: 'kv.maxValueBytes',
  CONFAB_KV_MAX_IMAGE_BYTES: 'kv.maxImageBytes',
  CONFAB_KV_IMAGE_MODELS: 'kv.imageModels',
  CONFAB_PRESENCE_GRACE_MS: 'realtime.presenceGraceMs',
  CONFAB_PRESENCE_HEARTBEAT_MS: 'realtime.presenceHeartbeatMs',
  CONFAB_TYPING_TTL_MS: 'realtime.typingTtlMs',
  CONFAB_DEFAULT_MODEL: 'models.default',
  CONFAB_MODELS: 'models.allowed',
  CONFAB_VISION_MODELS: 'models.vision',
  OPENAI_BASE_URL: 'providers.openai.baseUrl',
  OPENAI_API_KEY: 'providers.openai.apiKey',
  CONFAB_SESSION_TOKEN_BUDGET: 'sessions.tokenBudget',
  CONFAB_HISTORY_BUDGET: 'sessions.historyBudget',
  CONFAB_MAX_DEPTH: 'limits.maxDepth',
  CONFAB_MAX_COST: 'limits.maxCost',
  LIGHTNING_BACKEND: 'lightning.backend',
  LNBITS_URL: 'lightning.lnbitsUrl',
  LNBITS_API_KEY: 'lightning.lnbitsApiKey',
  LIGHTNING_WEBHOOK_SECRET: 'lightning.webhookSecret',
  CONFAB_PUBLIC_URL: 'lightning.publicUrl',
  CONFAB_BTC_USD: 'pricing.btcUsd',
  CONFAB_TRUST_HALF_LIFE_DAYS: 'trust.halfLifeDays',
  CONFAB_TRUST_FREE_POOL_TIER: 'trust.freePoolTier',
  CONFAB_TRUST_UNSCREENED_TIER: 'trust.unscreenedTier',
  CONFAB_WEBHOOKS_ALLOW_PRIVATE: 'webhooks.allowPrivate',
  CONFAB_WEBHOOKS_TIMEOUT_MS: 'webhooks.timeoutMs',
  CONFAB_WEBHOOKS_RETRY_WINDOW: 'webhooks.retryWindow',
  CONFAB_WEBHOOKS_BACKOFF_BASE_MS: 'webhooks.backoffBaseMs',
  CONFAB_WEBHOOKS_BACKOFF_MAX_MS: 'webhooks.backoffMaxMs',
  CONFAB_WEBHOOKS_POLL_INTERVAL_MS: 'webhooks.pollIntervalMs',
  CONFAB_DATA_DIR: 'dataDir',
  CONFAB_STORAGE_DIR: 'storage.dir',
  CONFAB_STORAGE_PUBLIC_URL: 'storage.publicUrl',
  CONFAB_STORAGE_ALLOWED_TYPES: 'storage.allowedTypes',
  CONFAB_S3_BUCKET: 'storage.s3.bucket',
  CONFAB_S3_REGION: 'storage.s3.region',
  CONFAB_S3_ENDPOINT: 'storage.s3.endpoint',
  CONFAB_S3_ACCESS_KEY_ID: 'storage.s3.accessKeyId',
  CONFAB_S3_SECRET_ACCESS_KEY: 'storage.s3.secretAccessKey',
  CONFAB_PUSH_ENABLED: 'push.enabled',
  CONFAB_VAPID_PUBLIC_KEY: 'push.vapidPublicKey',
  CONFAB_VAPID_PRIVATE_KEY: 'push.vapidPrivateKey',
  CONFAB_VAPID_SUBJECT: 'push.subject',
  CONFAB_PUSH_ALLOW_PRIVATE: 'push.allowPrivate',
  CONFAB_PUSH_CA_FILE: 'push.caFile',
  CONFAB_BILLING_MODE: 'billing.mode',
  CONFAB_ENABLE_REGISTRATION: 'auth.enableRegistration',
  CONFAB_REQUIRE_VERIFIED_EMAIL: 'auth.requireVerifiedEmail',
  CONFAB_SMTP_URL: 'mail.smtpUrl',
  CONFAB_MAIL_FROM: 'mail.from',
  CONFAB_MAIL_PUBLIC_URL: 'mail.publicUrl',
  CONFAB_PRIVACY_ON_DELETE: 'privacy.onDelete',
  CONFAB_RETENTION_ROOM_MESSAGES_DAYS: 'retention.roomMessagesDays',
  CONFAB_RETENTION_INTERVAL_MS: 'retention.intervalMs',
  CONFAB_PAID_SESSIONS_PURGE_ON_EXPIRY: 'paidSessions.purgeOnExpiry',
  CONFAB_BILLING_WEBHOOK_SECRET: 'billing.webhookSecret',
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), camelKeys(v)]));
  }
  return value;
}

function setPath(target: Record<string, any>, path: string, value: unknown) {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys[keys.length - 1]] = value;
}

function merge(base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const isObj = v && typeof v === 'object' && !Array.isArray(v);
    out[k] = isObj && out[k] && typeof out[k] === 'object' ? merge(out[k], v) : v;
  }
  return out;
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** Path of a TOML file; defaults to $CONFAB_CONFIG or ./confab.toml when it exists. */
  file?: string | false;
  /** Applied last; tests use it. */
  overrides?: DeepPartial<ConfigInput>;
}

/**
 * Builds the configuration from defaults < confab.toml < environment < overrides, and validates it.
 * Every problem is reported at once, naming the setting and the variable that sets it.
 */
export function loadConfig({ env = process.env, file, overrides = {} }: LoadConfigOptions = {}): Config {
  let layered: Record<string, any> = {};
  const path = file === false ? undefined : resolve(file || env.CONFAB_CONFIG || 'confab.toml');
  if (path && existsSync(path)) {
    try {
      layered = camelKeys(parseToml(readFileSync(path, 'utf8'))) as Record<string, any>;
    } catch (err) {
      throw new ConfigError(`Invalid configuration file ${path}: ${(err as Error).message}`);
    }
  } else if (file || env.CONFAB_CONFIG) {
    throw new ConfigError(`Configuration file not found: ${path}`);
  }
  const fromEnv: Record<string, any> = {};
  for (const [name, target] of Object.entries(ENV_MAP)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(fromEnv, target, value);
  }
  layered = merge(merge(layered, fromEnv), overrides as Record<string, any>);

  const parsed = resolvedSchema.safeParse(layered);
  if (!parsed.success) {
    const byPath = Object.fromEntries(Object.entries(ENV_MAP).map(([k, v]) => [v, k]));
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const hint = byPath[key] ? ` (env ${byPath[key]})` : '';
      return `  - ${key || '(root)'}${hint}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  if (config.server.headersTimeoutMs > config.server.requestTimeoutMs) {
    throw new ConfigError('Invalid configuration:\n  - server.headersTimeoutMs (env CONFAB_HEADERS_TIMEOUT_MS): must not exceed server.requestTimeoutMs');
  }
  if (config.env === 'production' && config.auth.secretKey === INSECURE_DEFAULT_SECRET) {
    throw new ConfigError(
      'Refusing to start in production with the insecure default secret: set CONFAB_SECRET_KEY (32+ characters).',
    );
  }
  return config;
}

/** `file:./data/confab.db` → SQLite; `postgres(ql)://…` → PostgreSQL. */
export const databaseKind = (url: string): 'sqlite' | 'postgresql' => (url.startsWith('file:') ? 'sqlite' : 'postgresql');
